"""Journal: idempotent records, per-sink delivery state across restarts, cursor, retention."""

from __future__ import annotations

import sqlite3

import pytest

from host_bridge.bridge.journal import Journal
from host_bridge.bridge.sealing import Sealer
from host_bridge.payloads.lookup import build_lookup
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


def identified(n: int) -> dict:
    """A lookup carrying a NIR, a name and a birth date, as an INS code does."""
    lk = lookup(n)
    lk["fields"] = {"ins_number": "180057512345678", "patient_family_name": "QUÉMÉNEUR", "patient_birth_date": "1980-05-17"}
    lk["text"] = "IS0100000000000000000000 S1180057512345678 QUÉMÉNEUR 17-05-1980"
    return lk


def file_bytes(path) -> bytes:
    return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))  # the db, -wal and -shm


def test_sealed_journal_keeps_identifiers_out_of_its_files_and_reads_them_back(tmp_path):
    path = tmp_path / "j.sqlite"
    sealer = Sealer.from_file(tmp_path / "cfg" / "journal.key")
    assert (tmp_path / "cfg" / "journal.key").stat().st_mode & 0o777 == 0o600
    j = Journal(path, sealer=sealer)
    j.record(identified(1))
    raw = file_bytes(path)
    for secret in ("180057512345678", "QUÉMÉNEUR", "1980-05-17", "17-05-1980"):
        assert secret.encode() not in raw
    assert j.get(identified(1)["id"]) == identified(1) and j.undelivered("stdout")[0][1] == identified(1)
    j.close()

    clear = Journal(path, sealer=sealer, clear=True)       # log_identifiers = true: the explicit switch
    clear.record(identified(2))
    assert b"QU\xc3\x89M\xc3\x89NEUR" in file_bytes(path)  # the grep finds a name written in clear
    assert [lk["id"] for lk in clear.after(None)[0]] == [identified(1)["id"], identified(2)["id"]]  # both forms read
    clear.close()


def test_a_sealed_journal_with_a_lost_or_wrong_key_is_refused_at_start_with_the_fix(tmp_path):
    path = tmp_path / "j.sqlite"
    Journal(path, sealer=Sealer.from_file(tmp_path / "a.key")).record(identified(1))
    with pytest.raises(UserError, match="restore the one the journal was written with"):
        Journal(path, sealer=Sealer.from_file(tmp_path / "other.key"))
    with pytest.raises(UserError, match="give the bridge its journal key"):
        Journal(path)
    (tmp_path / "bad.key").write_text("not base64!")
    with pytest.raises(UserError, match="cannot read journal key"):
        Sealer.from_file(tmp_path / "bad.key")
