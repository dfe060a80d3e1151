"""Journal: idempotent records, per-sink delivery state across restarts, cursor, retention."""

from __future__ import annotations

import sqlite3

import pytest

from host_bridge.bridge.journal import Journal
from host_bridge.bridge.lookups import build_lookup
from host_bridge.errors import UserError


def lookup(n: int, reader: str = "r1") -> dict:
    return build_lookup(f"payload {n}".encode(), source={"reader": reader, "read_id": str(n)})


def test_retransmitted_read_is_stored_once(tmp_path):
    j = Journal(tmp_path / "j.sqlite")
    first = j.record(lookup(1))
    again = j.record(build_lookup(b"payload 1", source={"reader": "r1", "read_id": "1"}))
    assert first == (1, True) and again == (1, False)
    assert j.count() == 1


def test_wal_mode_and_restart_redelivers_only_undelivered_with_same_id(tmp_path):
    path = tmp_path / "j.sqlite"
    j = Journal(path)
    ids = [j.record(lookup(n))[0] for n in range(5)]
    j.mark_delivered("webhook", ids[:3])
    j.close()
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"

    j2 = Journal(path)
    pending = j2.undelivered("webhook")
    assert [lk["id"] for _, lk in pending] == [lookup(3)["id"], lookup(4)["id"]]
    assert len(j2.undelivered("mqtt")) == 5 and j2.pending("mqtt") == 5  # each sink keeps its own state
    assert j2.pending("webhook") == 2
    j2.record(lookup(4))  # the reader retransmits after the restart
    assert j2.count() == 5


def test_cursor_pages_in_order_and_stays_monotonic_after_purge(tmp_path):
    now = [1000.0]
    j = Journal(tmp_path / "j.sqlite", clock=lambda: now[0])
    for n in range(3):
        j.record(lookup(n))
    page, cursor = j.after(None, limit=2)
    assert [lk["source"]["read_id"] for lk in page] == ["0", "1"]
    page, cursor = j.after(cursor)
    assert [lk["source"]["read_id"] for lk in page] == ["2"]
    assert j.after(cursor) == ([], cursor)

    j.mark_delivered("webhook", [1, 2])
    now[0] += 3600
    assert j.purge(older_than_s=60) == 3
    assert j._db.execute("SELECT COUNT(*) FROM deliveries").fetchone()[0] == 0  # delivery rows go with them
    assert j.get(lookup(0)["id"]) is None
    j.record(lookup(9))
    page, nxt = j.after(cursor)
    assert [lk["source"]["read_id"] for lk in page] == ["9"] and int(nxt) > int(cursor)


def test_bad_cursor_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="invalid cursor"):
        Journal(tmp_path / "j.sqlite").after("abc")


def test_corrupt_journal_file_is_a_user_error_and_is_not_overwritten(tmp_path):
    path = tmp_path / "j.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(UserError, match="cannot open journal"):
        Journal(path)
    assert path.read_bytes().startswith(b"this is not a database")
