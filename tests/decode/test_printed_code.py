"""Reading the number printed under a destroyed QR: never a wrong number, and the cost only on misses."""

from __future__ import annotations

import io
import json
import logging
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from host_bridge.cli import main
from host_bridge.counter.pipeline import LookupPipeline
from host_bridge.decode.engines import get_engine
from host_bridge.decode.printed_code import PrintedCodeEngine, resolve
from host_bridge.payloads.lookup import now_source
from host_bridge.payloads.manual import PRINTED_CODE_ENGINE
from host_bridge.payloads.validators import iso7064_mod37_36_check, prescription_number
from host_bridge.testbench.benches.printed_code import Counting
from host_bridge.testbench.samples.generate import sample
from host_bridge.testbench.synthetic_frames import PRESCRIPTION, empty_scene, printed_code


def number(body: str) -> str:
    return body + iso7064_mod37_36_check(body)


def line(text: str, hesitant: dict[int, str] | None = None) -> list[str]:
    """A recognised line as the OCR hands it over: per position the likely characters, best first."""
    hesitant = hesitant or {}
    return [text[i] + hesitant.get(i, "") for i in range(len(text))]


def test_one_passing_reading_gives_the_number() -> None:
    n = number("K7P39QXA2M4TB8R")
    misread = n[:13] + "B" + n[14:]                  # the 8 read as B, the 8 a likely second choice
    assert resolve([line(misread, {13: "8"})]) == (n, 1, 1)
    spaced = " ".join(n[i:i + 4] for i in range(0, 16, 4))
    assert resolve([list(spaced)]) == (n, 1, 1)       # the printed groups' spaces are not characters


def test_two_passing_readings_give_no_number() -> None:
    """O/0 hesitated on at the start and S/5 at the fourth place: ORPS... and 0RP5... both pass the check
    character, so which one is printed cannot be known: "code illisible", no guess."""
    n, other = "ORPS8N628VDGRJQZ", "0RP58N628VDGRJQZ"
    assert prescription_number(n) is None and prescription_number(other) is None
    assert resolve([line(n, {0: "0", 3: "5"})]) == (None, 1, 2)


def test_a_confident_misreading_gives_no_number() -> None:
    n = number("K7P39QXA2M4TB8R")
    assert resolve([line(n[:5] + "O" + n[6:])])[0] is None          # Q read as O, no doubt expressed
    assert resolve([line("RPPS 10001234567")])[:2] == (None, 0)      # a line of another shape
    assert resolve([line(n), line(number("AAAABBBBCCCCDDD"))])[0] is None   # two codes in view: which one?


def test_no_ocr_when_the_qr_reads_or_the_frame_is_empty() -> None:
    reader = Counting()
    engine = PrintedCodeEngine(get_engine(), reader)
    assert [s.text for s in engine.decode(printed_code((640, 480), seed=1))] == [PRESCRIPTION]
    assert engine.decode(empty_scene((640, 480), seed=2)) == []
    assert reader.runs == 0


def test_without_the_ocr_package_a_warning_and_qr_codes_still_read(monkeypatch: pytest.MonkeyPatch,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "rapidocr_onnxruntime", None)   # as if not installed
    _, data, _ = sample(1, 1, damaged=True)
    gray = np.asarray(Image.open(io.BytesIO(data)).convert("L"))
    engine = PrintedCodeEngine(get_engine())
    with caplog.at_level(logging.WARNING):
        assert engine.decode(gray) == []
    assert "install the 'rapidocr-onnxruntime' package" in caplog.text
    assert [s.text for s in engine.decode(printed_code((640, 480), seed=1))] == [PRESCRIPTION]


def test_the_pipeline_looks_up_an_ocr_number_as_typed_with_a_check_warning() -> None:
    n = number("K7P39QXA2M4TB8R")
    lookup = LookupPipeline(sessions=False).lookup(n.encode(), now_source("reader-1", engine=PRINTED_CODE_ENGINE))
    assert lookup["kind"] == "ordonnance" and lookup["fields"]["prescription_number"] == n
    assert lookup["source"]["engine"] == PRINTED_CODE_ENGINE
    assert [w["code"] for w in lookup["warnings"]] == ["printed_code_ocr"]
    assert "vérifiez" in lookup["warnings"][0]["message"]


@pytest.mark.slow
def test_decode_and_replay_read_a_destroyed_qr_through_its_printed_number(tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "damaged"
    assert main(["samples", "--out", str(out), "--count", "2", "--seed", "1", "--damaged"]) == 0
    capsys.readouterr()
    manifest = json.loads((out / "manifest.json").read_text())
    torn = out / manifest[1]["file"]                   # seed 1, sample 1: a torn corner, the printed line legible
    assert manifest[1]["damage"] == "torn_corner" and manifest[1]["printed_code_legible"]
    assert main(["decode", "--json", str(torn)]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["printed_code"]["status"] == "read"
    assert [(s["format"], s["engine"], s["text"]) for s in row["symbols"]] == \
        [("PrintedCode", PRINTED_CODE_ENGINE, manifest[1]["printed_code"])]
    report = tmp_path / "report.json"
    assert main(["replay", "--min-rate", "0", "--report", str(report), str(out)]) in (0, 1)
    damaged = json.loads(report.read_text())["manifests"][str(out)]["damaged_qr"]
    assert damaged["wrong_numbers"] == 0 and damaged["read_by_printed_code"] >= 1
