"""`electeur decode`, `replay` and `demo` as a user and a harness see them: v1 JSON lines, tables, exit codes."""

from __future__ import annotations

import base64
import json
import shutil
from importlib import resources
from pathlib import Path

import pytest

from host_bridge.cli import main

DATA = resources.files("host_bridge") / "data"


@pytest.fixture
def images(tmp_path: Path) -> Path:
    """Two readable codes with expected texts, one wrong expectation, one corrupt file, one 0-byte file."""
    root = tmp_path / "session"
    (root / "sub").mkdir(parents=True)
    shutil.copy(DATA / "demo-qr.png", root / "1.png")
    (root / "1.txt").write_text("https://e-lecteur.example/demo", encoding="utf-8")
    shutil.copy(DATA / "demo-datamatrix.png", root / "sub" / "2.png")
    (root / "sub" / "2.txt").write_bytes(b"AMC 12345678|TP|01|987654|2026-01-01/2026-12-31")
    shutil.copy(DATA / "demo-qr-inverted.png", root / "3.png")
    (root / "3.txt").write_text("something else", encoding="utf-8")
    (root / "4.jpg").write_bytes(b"\xff\xd8\xff\xe0 broken")
    (root / "5.png").write_bytes(b"")
    return root


def json_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


def test_decode_json_rows_and_errors_do_not_stop_the_run(images: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["decode", "--json", str(images), str(images / "missing.png")]) == 1  # 1: some files had errors
    rows = {Path(r["file"]).name: r for r in json_lines(capsys.readouterr().out)}
    assert sorted(rows) == ["1.png", "2.png", "3.png", "4.jpg", "5.png", "missing.png"]
    assert rows["missing.png"]["error"] == "no such file"
    ok = rows["1.png"]
    assert set(ok) == {"file", "symbols", "ms"} and ok["ms"] > 0
    assert ok["symbols"] == [{"text": "https://e-lecteur.example/demo", "format": "QRCode", "engine": "cascade",
                              "bytes_b64": base64.b64encode(b"https://e-lecteur.example/demo").decode()}]
    assert rows["2.png"]["symbols"][0]["format"] == "DataMatrix"
    assert set(rows["4.jpg"]) == {"file", "error"} and "corrupt" in rows["4.jpg"]["error"]
    assert rows["5.png"] == {"file": str(images / "5.png"), "error": "empty file (0 bytes)"}


def test_decode_table_and_engine_choice(images: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["decode", "--engine", "zbar", str(images / "1.png"), str(images / "sub" / "2.png")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "QRCode" in out[0] and "zbar" in out[0] and "https://e-lecteur.example/demo" in out[0]
    assert "(no code)" in out[1]


def test_decode_user_mistakes_are_one_line(images: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["decode", "--engine", "nope", str(images)]) == 2
    assert capsys.readouterr().err.splitlines() == ["electeur decode: unknown decode engine 'nope'; known: cascade, firmware, zbar, zxing"]


def test_replay_json_rows_compare_bytes(images: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["replay", "--json", "--min-rate", "0.5", str(images)]) == 0
    rows = {Path(r["file"]).name: r for r in json_lines(capsys.readouterr().out)}
    assert (rows["1.png"]["expected"], rows["1.png"]["ok"]) == ("https://e-lecteur.example/demo", True)
    assert rows["2.png"]["ok"] is True
    assert (rows["3.png"]["expected"], rows["3.png"]["ok"]) == ("something else", False)
    assert rows["4.jpg"]["expected"] is None and rows["4.jpg"]["ok"] is None and "error" in rows["4.jpg"]


def test_replay_exit_status_gates_on_min_rate_and_report(images: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    report = tmp_path / "report.json"
    assert main(["replay", "--report", str(report), str(images)]) == 1  # 2 of 3 read < default 1.0
    table = capsys.readouterr().out
    assert "read 2/3 expected texts" in table and "wrong" in table
    summary = json.loads(report.read_text())
    assert (summary["version"], summary["read"], summary["expected"], summary["engine"]) == (1, 2, 3, "cascade")
    assert summary["dirs"][str(images)]["wrong"] == 1 and summary["dirs"][str(images)]["errors"] == 2
    assert main(["replay", "--min-rate", "0.66", str(images)]) == 0


def test_replay_refuses_bad_arguments(images: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["replay", str(images / "1.png")]) == 2
    assert main(["replay", "--min-rate", "2", str(images)]) == 2
    assert len(capsys.readouterr().err.splitlines()) == 2


def test_replay_on_the_corpus_reads_every_expected_qr(corpus: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["replay", "--min-rate", "0.96", str(corpus / "zxing-qrcode")]) == 0
    assert main(["replay", str(corpus / "zxing-qrcode" / "qrcode-2")]) == 1  # 32/35: the harness gates


def test_demo_reads_every_bundled_image(capsys: pytest.CaptureFixture, tmp_path: Path) -> None:
    assert main(["demo", "--workdir", str(tmp_path), "--count", "6"]) == 0
    out = capsys.readouterr().out
    assert "3 code(s) read from 3 bundled image(s)" in out
    assert "ePU sandbox running on http://127.0.0.1:" in out and "where to look" in out
