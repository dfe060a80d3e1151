"""The journal: every lookup is written to SQLite before the reader gets its ACK.

WAL mode so the API can read while the link writes; `record` is idempotent on the
lookup id (a retransmitted read is stored once); each sink's delivery state is kept so
a restart re-delivers exactly what was not delivered, with the same id. The API cursor
is the row number, which AUTOINCREMENT keeps monotonic even after a retention purge. A lookup
revised later (ePU answered after being unreachable) moves to a new row number, so cursor
readers and sinks get the new version once. Every failed write raises `JournalError`.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from host_bridge.bridge.private import make_private, private_dir
from host_bridge.bridge.sealing import PREFIX, Sealer, is_sealed
from host_bridge.errors import UserError

SCHEMA = """
CREATE TABLE IF NOT EXISTS lookups (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    reader TEXT,
    recorded REAL NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS deliveries (
    sink TEXT NOT NULL,
    seq INTEGER NOT NULL REFERENCES lookups(seq) ON DELETE CASCADE,
    delivered REAL NOT NULL,
    PRIMARY KEY (sink, seq)
);
CREATE INDEX IF NOT EXISTS lookups_recorded ON lookups(recorded);
CREATE TABLE IF NOT EXISTS epu_pending (    -- lookups recorded while ePU was unreachable: to consult again
    seq INTEGER PRIMARY KEY REFERENCES lookups(seq) ON DELETE CASCADE
);
"""


class JournalError(Exception):
    """The journal could not be written (disk full, I/O error): the caller must not acknowledge the read."""


def encode_cursor(seq: int) -> str:
    """Cursors are opaque strings to API clients."""
    return str(seq)


def decode_cursor(cursor: str | None) -> int:
    """'' or None means 'from the start'; anything else must be a cursor we gave out."""
    if not cursor:
        return 0
    if not (cursor.isascii() and cursor.isdigit() and len(cursor) <= 18):  # SQLite integers are 64-bit
        raise ValueError(f"invalid cursor {cursor!r}: use the 'next' value of a previous answer")
    return int(cursor)


class Journal:
    """Thread-safe SQLite journal of lookups and per-sink deliveries."""

    def __init__(self, path: str | Path, *, clock: Callable[[], float] = time.time, sealer: Sealer | None = None,
                 clear: bool = False) -> None:
        self.path = Path(path)
        self.clock = clock
        self.sealer = sealer
        self.clear = clear or sealer is None
        self._lock = threading.Lock()
        self._listeners: list[Callable[[int, dict[str, Any]], None]] = []
        try:
            # 0600 before SQLite opens it: its -wal and -shm files take the database file's mode
            if not self.path.exists():
                private_dir(self.path.parent)
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
            make_private(self.path, Path(f"{self.path}-wal"), Path(f"{self.path}-shm"))
            self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")  # an ACK promises the read survives a power cut
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(SCHEMA)
            last = self._db.execute("SELECT id, body FROM lookups WHERE body LIKE ? ORDER BY seq DESC LIMIT 1",
                                    (PREFIX + "%",)).fetchone()
        except (OSError, sqlite3.DatabaseError) as exc:
            raise UserError(f"cannot open journal {self.path}: {exc}") from exc
        if last:  # a wrong or lost key is said now, not when a sink or the page first reads
            self._load(*last)

    def _load(self, lookup_id: str, body: str) -> dict[str, Any]:
        if is_sealed(body):
            if self.sealer is None:
                raise UserError(f"journal {self.path} holds sealed lookups: give the bridge its journal key")
            body = self.sealer.open(body, lookup_id)
        return json.loads(body)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def on_record(self, listener: Callable[[int, dict[str, Any]], None]) -> None:
        """Call `listener(seq, lookup)` after each newly recorded lookup (sinks wake up on it)."""
        self._listeners.append(listener)

    def _body(self, lookup: dict[str, Any]) -> str:
        body = json.dumps(lookup, ensure_ascii=False, separators=(",", ":"))
        return body if self.clear else self.sealer.seal(body, lookup["id"])  # type: ignore[union-attr]

    def _insert(self, lookup: dict[str, Any], recorded: float, verb: str = "INSERT OR IGNORE") -> int | None:
        """Insert the row (inside a transaction) and its ePU marker; the new seq, or None if the id was there."""
        cur = self._db.execute(f"{verb} INTO lookups (id, reader, recorded, body) VALUES (?, ?, ?, ?)",
                               (lookup["id"], (lookup.get("source") or {}).get("reader"), recorded, self._body(lookup)))
        if cur.rowcount != 1:
            return None
        if (lookup.get("epu") or {}).get("state") == "unreachable":
            self._db.execute("INSERT INTO epu_pending (seq) VALUES (?)", (cur.lastrowid,))
        return cur.lastrowid

    def record(self, lookup: dict[str, Any]) -> tuple[int, bool]:
        """Store `lookup` durably; returns (seq, new). A lookup id seen before is not stored again."""
        with self._lock, self._writing(), self._transaction():
            seq = self._insert(lookup, self.clock())
            new = seq is not None
            if seq is None:
                seq = self._db.execute("SELECT seq FROM lookups WHERE id = ?", (lookup["id"],)).fetchone()[0]
        if new:
            for listener in self._listeners:
                listener(seq, lookup)
        return seq, new

    def revise(self, lookup: dict[str, Any]) -> int:
        """Replace a recorded lookup by a newer version of it (same id): it gets a new row number, its
        deliveries are forgotten (every sink gets the new version once) and listeners hear of it."""
        with self._lock, self._writing(), self._transaction():
            recorded, = self._db.execute("SELECT recorded FROM lookups WHERE id = ?", (lookup["id"],)).fetchone()
            self._db.execute("DELETE FROM lookups WHERE id = ?", (lookup["id"],))
            seq = self._insert(lookup, recorded, "INSERT")
        for listener in self._listeners:
            listener(seq, lookup)
        return seq

    def epu_unreachable(self, limit: int = 20) -> list[dict[str, Any]]:
        """Lookups journaled while ePU could not be reached, oldest first: what to consult ePU about again."""
        with self._lock:
            rows = self._db.execute("SELECT l.id, l.body FROM epu_pending p JOIN lookups l ON l.seq = p.seq "
                                    "ORDER BY l.seq LIMIT ?", (limit,)).fetchall()
        return [self._load(*row) for row in rows]

    def after(self, cursor: str | None, limit: int = 100) -> tuple[list[dict[str, Any]], str]:
        """Lookups recorded after `cursor`, oldest first, and the cursor to ask with next time."""
        start = decode_cursor(cursor)
        with self._lock:
            rows = self._db.execute("SELECT seq, id, body FROM lookups WHERE seq > ? ORDER BY seq LIMIT ?",
                                    (start, limit)).fetchall()
        return [self._load(i, body) for _, i, body in rows], encode_cursor(rows[-1][0] if rows else start)

    def latest(self, limit: int = 20) -> tuple[list[dict[str, Any]], str]:
        """The `limit` most recent lookups, oldest first, and the cursor after them (the counter page's start)."""
        with self._lock:
            rows = self._db.execute("SELECT id, body FROM lookups ORDER BY seq DESC LIMIT ?", (limit,)).fetchall()
            top = self._db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'lookups'").fetchone()
        return [self._load(*row) for row in reversed(rows)], encode_cursor(top[0] if top else 0)

    def get(self, lookup_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._db.execute("SELECT id, body FROM lookups WHERE id = ?", (lookup_id,)).fetchone()
        return self._load(*row) if row else None

    def count(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM lookups").fetchone()[0]

    def undelivered(self, sink: str, limit: int = 100) -> list[tuple[int, dict[str, Any]]]:
        """(seq, lookup) pairs `sink` has not confirmed yet, oldest first: what to (re)deliver."""
        with self._lock:
            rows = self._db.execute(
                "SELECT l.seq, l.id, l.body FROM lookups l WHERE NOT EXISTS "
                "(SELECT 1 FROM deliveries d WHERE d.sink = ? AND d.seq = l.seq) ORDER BY l.seq LIMIT ?",
                (sink, limit)).fetchall()
        return [(seq, self._load(i, body)) for seq, i, body in rows]

    def pending(self, sink: str) -> int:
        """How many lookups `sink` has not confirmed (health: a dead webhook shows as a growing number)."""
        with self._lock:
            return self._db.execute(
                "SELECT COUNT(*) FROM lookups l WHERE NOT EXISTS "
                "(SELECT 1 FROM deliveries d WHERE d.sink = ? AND d.seq = l.seq)", (sink,)).fetchone()[0]

    def mark_delivered(self, sink: str, seqs: list[int]) -> None:
        now = self.clock()
        with self._lock, self._writing():
            self._db.executemany("INSERT OR IGNORE INTO deliveries (sink, seq, delivered) VALUES (?, ?, ?)",
                                 [(sink, s, now) for s in seqs])

    def purge(self, older_than_s: float) -> int:
        """Retention: delete lookups recorded more than `older_than_s` seconds ago; returns how many."""
        with self._lock, self._writing():
            cur = self._db.execute("DELETE FROM lookups WHERE recorded < ?", (self.clock() - older_than_s,))
        return cur.rowcount

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """Several statements as one commit (one fsync): all or nothing."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    @contextlib.contextmanager
    def _writing(self) -> Iterator[None]:
        """SQLite write errors (disk full, file too large, I/O error) as JournalError; the statement is rolled back."""
        try:
            yield
        except sqlite3.Error as exc:
            raise JournalError(f"journal {self.path} cannot be written: {exc}") from exc
