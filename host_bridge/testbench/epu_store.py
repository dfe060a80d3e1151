"""SQLite state of the ePU sandbox: prescriptions and their dispensations.

The rules the real tele-service enforces and the counter relies on live here: a prescription
is dispensed in full at most once, partial dispensations accumulate until a total one, a
cancelled prescription cannot be dispensed, a refusal needs a reason.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS prescriptions (
  number TEXT PRIMARY KEY,
  state TEXT NOT NULL CHECK (state IN ('available', 'dispensed', 'partially_dispensed', 'cancelled')),
  detail TEXT NOT NULL,
  created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS dispensations (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  number TEXT NOT NULL REFERENCES prescriptions(number),
  type TEXT NOT NULL CHECK (type IN ('total', 'partial', 'refused')),
  reason TEXT,
  lines TEXT NOT NULL,
  at TEXT NOT NULL
);
"""


class Refused(Exception):
    """The tele-service refuses the operation; `status` is the HTTP status, `code` a stable reason code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class EpuStore:
    """Prescriptions and dispensations in one SQLite file (":memory:" for a throw-away sandbox)."""

    def __init__(self, path: str | Path) -> None:
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL" if str(path) != ":memory:" else "PRAGMA journal_mode=MEMORY")
        self._db.executescript(SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    def register(self, number: str, detail: dict[str, Any], *, replace: bool = False) -> None:
        """Record a prescription as the prescriber's software would (the sandbox's seed path)."""
        with self._lock:
            verb = "INSERT OR REPLACE" if replace else "INSERT"
            try:
                self._db.execute(f"{verb} INTO prescriptions VALUES (?, 'available', ?, ?)",
                                 (number, json.dumps(detail, ensure_ascii=False), _now()))
            except sqlite3.IntegrityError:
                raise Refused(409, "already_registered", f"prescription {number} is already registered") from None

    def get(self, number: str) -> dict[str, Any]:
        """The prescription with its dispensations; Refused(404) when ePU does not know it."""
        row = self._db.execute("SELECT state, detail, created FROM prescriptions WHERE number = ?", (number,)).fetchone()
        if not row:
            raise Refused(404, "unknown", f"prescription {number} is not known to ePU")
        disp = self._db.execute("SELECT type, reason, lines, at FROM dispensations WHERE number = ? ORDER BY id",
                                (number,)).fetchall()
        return {"number": number, "state": row[0], "created": row[2], **json.loads(row[1]),
                "dispensations": [{"type": t, "reason": r, "lines": json.loads(li), "at": at} for t, r, li, at in disp]}

    def dispense(self, number: str, kind: str, *, reason: str | None = None, lines: list | None = None) -> dict[str, Any]:
        """Record a dispensation (total, partial, refused) and return the new state, or raise Refused."""
        if kind not in ("total", "partial", "refused"):
            raise Refused(400, "bad_type", "dispensation type must be total, partial or refused")
        if kind == "refused" and not (reason or "").strip():
            raise Refused(400, "reason_required", "a refused e-prescription needs a reason")
        with self._lock:
            state = self.get(number)["state"]
            if state == "cancelled":
                raise Refused(410, "cancelled", f"prescription {number} was cancelled by its prescriber")
            if state == "dispensed":
                raise Refused(409, "already_dispensed", f"prescription {number} was already dispensed in full")
            new = {"total": "dispensed", "partial": "partially_dispensed", "refused": state}[kind]
            self._db.execute("BEGIN")
            self._db.execute("INSERT INTO dispensations (number, type, reason, lines, at) VALUES (?, ?, ?, ?, ?)",
                             (number, kind, reason, json.dumps(lines or []), _now()))
            self._db.execute("UPDATE prescriptions SET state = ? WHERE number = ?", (new, number))
            self._db.execute("COMMIT")
        return self.get(number)

    def cancel(self, number: str) -> dict[str, Any]:
        """The prescriber cancels the prescription (only while nothing was dispensed)."""
        with self._lock:
            state = self.get(number)["state"]
            if state != "available":
                raise Refused(409, state, f"prescription {number} is {state}; it can no longer be cancelled")
            self._db.execute("UPDATE prescriptions SET state = 'cancelled' WHERE number = ?", (number,))
        return self.get(number)
