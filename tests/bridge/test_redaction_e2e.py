"""Health data stays out of logs: after end-to-end runs on generated samples (replay through the CLI, replay
through the real firmware in a child process and the wire protocol, the ReaderLink's own error paths), no
NIR, name or birth date of the samples appears in clear in logs, stderr, the human table or the report.

Only the data outputs (`--json` rows, `classify` lines) carry them, by design; the test checks they do, so
the grep is known to work. The bridge's journal and its log configuration (H6) are not on this branch yet.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
from pathlib import Path

import pytest

from firmware import protocol as P
from host_bridge.cli import main
from host_bridge.decode.engines import get_engine
from host_bridge.testbench import via_reader
from host_bridge.link.reader_link import ReaderLink
from host_bridge.payloads import redacted
from host_bridge.counter.pipeline import LookupPipeline

IDENTIFYING = ("name", "birth_date", "ins_number")


def _variants(field: str, value: str) -> set[str]:
    out = {value}
    if field.endswith("birth_date"):
        d = dt.date.fromisoformat(value)
        out |= {d.strftime("%d-%m-%Y"), d.strftime("%d/%m/%Y"), d.strftime("%Y%m%d")}
    return out


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, set[str]]:
    """12 generated codes of every kind, and the identifiers they carry (every written form)."""
    out = tmp_path_factory.mktemp("samples")
    assert main(["samples", "--out", str(out), "--count", "12", "--seed", "3"]) == 0
    secrets: set[str] = set()
    for entry in json.loads((out / "manifest.json").read_text()):
        for field, value in entry["fields"].items():
            if any(k in field for k in IDENTIFYING) and value:
                secrets |= _variants(field, value)
    assert len(secrets) >= 10
    return out, secrets


def _leaks(text: str, secrets: set[str]) -> list[str]:
    return sorted(s for s in secrets if s in text)


def test_replay_logs_table_and_report_hold_no_identifier(samples, tmp_path, capsys, caplog) -> None:
    directory, secrets = samples
    caplog.set_level(logging.DEBUG)
    report = tmp_path / "report.json"
    assert main(["replay", str(directory), "--session", "--report", str(report)]) == 0
    out, err = capsys.readouterr()
    assert "12/12" in out
    for where, text in {"stdout table": out, "stderr": err, "logs": caplog.text,
                        "report": report.read_text(encoding="utf-8")}.items():
        assert _leaks(text, secrets) == [], where
    assert main(["replay", str(directory), "--json"]) == 0       # the data output does carry them: the grep works
    assert _leaks(capsys.readouterr().out, secrets)


def test_replay_through_the_firmware_logs_nothing_and_redacted_lookups_hide_identifiers(samples, caplog) -> None:
    directory, secrets = samples
    caplog.set_level(logging.DEBUG)
    images = sorted(p for p in directory.iterdir() if p.suffix in (".png", ".jpg"))
    rows = via_reader.reader_rows(images, "cpython", get_engine())
    pipeline = LookupPipeline()
    lookups = [lk for row in rows.values() for lk in pipeline.add_to_row(row).get("lookups", [])]
    assert len(lookups) >= 10
    clear = json.dumps(lookups, ensure_ascii=False)
    assert _leaks(clear, secrets)                                 # identifiers were read...
    assert _leaks(json.dumps([redacted(lk) for lk in lookups], ensure_ascii=False), secrets) == []
    assert _leaks(caplog.text, secrets) == []


class Pipe:
    def __init__(self) -> None:
        self.written = b""

    def write(self, data: bytes) -> None:
        self.written += data


def test_reader_link_error_paths_log_no_payload(samples, caplog) -> None:
    """Bad bodies, a failing journal callback and resends are logged without the payload they carried."""
    directory, secrets = samples
    caplog.set_level(logging.DEBUG)
    payloads = [base64.b64decode(e["payload_b64"]) for e in json.loads((directory / "manifest.json").read_text())]

    def failing_journal(reader: int, seq: int, data: bytes, meta: dict) -> None:
        raise OSError("journal: disk full")

    link = ReaderLink(Pipe(), failing_journal)
    for seq, data in enumerate(payloads):
        link.feed(P.read(1, seq, data))
        link.feed(P.encode(P.READ, seq + 100, b"\xff" + data))      # malformed READ body around the payload
    assert link.stats["callback_errors"] == len(payloads) and link.stats["bad_messages"] == len(payloads)
    assert "disk full" in caplog.text
    assert _leaks(caplog.text, secrets) == []
