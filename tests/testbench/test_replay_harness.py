"""`electeur replay` as a vendor's CI uses it: broken corpora fail, negatives are scored, failures are listed."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path

import pytest
from PIL import Image

from host_bridge.cli import main

DATA = resources.files("host_bridge") / "data"


@pytest.fixture
def labelled(tmp_path: Path) -> Path:
    """One image read right, one expected wrongly, one negative sample with a code in it, one true negative."""
    root = tmp_path / "corpus"
    root.mkdir()
    shutil.copy(DATA / "demo-qr.png", root / "1.png")
    (root / "1.txt").write_text("https://e-lecteur.example/demo", encoding="utf-8")
    shutil.copy(DATA / "demo-qr.png", root / "2.png")
    (root / "2.txt").write_text("something else", encoding="utf-8")
    shutil.copy(DATA / "demo-qr.png", root / "3.png")
    (root / "3.nocode").write_bytes(b"")
    Image.new("L", (200, 200), 255).save(root / "4.png")
    (root / "4.nocode").write_bytes(b"")
    return root


def test_an_empty_or_unlabelled_corpus_fails_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["replay", str(empty)]) == 2
    assert main(["decode", str(empty)]) == 2
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "a.png").write_bytes(b"\x89PNG broken")
    assert main(["replay", str(corrupt)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"electeur replay: {empty}: no image (PNG, JPEG, WebP, PGM) found"
    assert err[1] == f"electeur decode: {empty}: no image (PNG, JPEG, WebP, PGM) found"
    assert err[2].startswith(f"electeur replay: nothing to score in {corrupt}: no N.txt") and len(err) == 3


def test_negative_samples_are_scored_and_failures_listed(labelled: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture) -> None:
    report, junit = tmp_path / "report.json", tmp_path / "junit.xml"
    assert main(["replay", "--report", str(report), "--junit", str(junit), str(labelled)]) == 1
    out = capsys.readouterr().out
    assert "read 1/2 expected texts; 2 negative samples, 1 false positives (rate 0.500)" in out
    assert f"FAIL {labelled / '3.png'}: false positive" in out
    summary = json.loads(report.read_text())
    assert (summary["scored"], summary["negatives"], summary["false_positives"]) == (4, 2, 1)
    assert summary["failures"] == [
        {"file": str(labelled / "2.png"), "expected": "something else", "read": ["https://e-lecteur.example/demo"],
         "why": "wrong payload"},
        {"file": str(labelled / "3.png"), "expected": None, "read": ["https://e-lecteur.example/demo"],
         "why": "false positive: a code was read in a negative sample"}]
    suite = ET.parse(junit).getroot().find("testsuite")
    assert suite is not None and (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "2", "0")
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert cases["1.png"].find("failure") is None and cases["4.png"].find("failure") is None
    message = cases["2.png"].find("failure").get("message")  # type: ignore[union-attr]
    assert message == "expected 'something else', read 'https://e-lecteur.example/demo'"


def test_a_negatives_directory_is_replayed_and_scored(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    scenes = tmp_path / "falsepositives"
    scenes.mkdir()
    for i in range(3):
        Image.new("L", (160, 120), 40 * i).save(scenes / f"{i}.png")
    assert main(["replay", "--negatives", str(scenes)]) == 0
    assert "3 negative samples, 0 false positives (rate 1.000)" in capsys.readouterr().out


def test_an_unwritable_report_is_refused_before_the_run(labelled: Path, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture) -> None:
    assert main(["replay", "--report", str(tmp_path / "no" / "r.json"), str(labelled)]) == 2
    assert main(["replay", "--junit", str(tmp_path), str(labelled)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""             # nothing was decoded
    assert captured.err.splitlines() == [f"electeur replay: cannot write report {tmp_path / 'no' / 'r.json'}: "
                                         f"no directory {tmp_path / 'no'}",
                                         f"electeur replay: cannot write JUnit file {tmp_path}: is a directory"]


def test_manifest_verdicts_become_junit_cases(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "samples"
    assert main(["samples", "--out", str(out), "--count", "4", "--seed", "3"]) == 0
    junit = tmp_path / "j.xml"
    main(["replay", "--min-rate", "0", "--junit", str(junit), str(out)])
    root = ET.parse(junit).getroot()
    cases = list(root.iter("testcase"))
    assert len(cases) == 4 and root.get("skipped") == "0"
    capsys.readouterr()
