"""The counter demo end to end: samples, sandbox, decode, lookups, accuracy, double-dispensation refusal."""

from pathlib import Path

from host_bridge.testbench.counter_demo import run_counter_demo
from host_bridge.decode.engines import get_engine
from host_bridge.decode.image import load_gray


def test_counter_demo_reports_accuracy_and_refuses_double_dispensation(tmp_path: Path) -> None:
    engine = get_engine()
    lines: list[str] = []
    report = run_counter_demo(tmp_path, lambda path: engine.decode(load_gray(path)), count=8, seed=1, say=lines.append)
    text = "\n".join(lines)
    assert report["images"] == 8 and report["ok"] >= 7 and report["ordonnance_as_other"] == 0
    assert "refused by ePU: already_dispensed" in text and "['already_dispensed']" in text
    assert (tmp_path / "lookups.jsonl").read_text().count("\n") >= 7
    assert "where to look" in lines[-1]
    rows = [line for line in lines if line.endswith((".png", ".jpg")) is False and "_ordonnance." in line]
    assert any("renouv. 2/3" in row for row in rows), rows             # a renewal due, with its number
    assert any("refused_eprescription" in row for row in rows), rows    # a refused e-prescription
