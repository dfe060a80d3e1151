"""The counter demo end to end: samples, sandbox, decode, lookups, accuracy, double-dispensation refusal."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import zxingcpp
from PIL import Image

from host_bridge.counter_demo import run_counter_demo


@dataclass
class Symbol:
    data: bytes
    engine: str = "zxing"


def decode(path: Path) -> list[Symbol]:
    return [Symbol(r.bytes) for r in zxingcpp.read_barcodes(np.asarray(Image.open(path).convert("L")))]


def test_counter_demo_reports_accuracy_and_refuses_double_dispensation(tmp_path: Path) -> None:
    lines: list[str] = []
    report = run_counter_demo(tmp_path, decode, count=8, seed=1, say=lines.append)
    text = "\n".join(lines)
    assert report["images"] == 8 and report["ordonnance_as_other"] == 0
    assert "refused by ePU: already_dispensed" in text and "['already_dispensed']" in text
    assert (tmp_path / "lookups.jsonl").read_text().count("\n") >= 7
    assert "where to look" in lines[-1]
