"""hardware/: BOM per board with the totals docs/hardware.md shows, wiring generated from the profile pins and
current, and the stand model knowing every board."""

from __future__ import annotations

import csv
import importlib.util
import re
import shutil
import subprocess

import pytest

from host_bridge.devtools.boards import HARDWARE, board_names, load_board
from conftest import REPO

spec = importlib.util.spec_from_file_location("wiring", REPO / "tools" / "wiring.py")
wiring = importlib.util.module_from_spec(spec)
spec.loader.exec_module(wiring)
STAND = HARDWARE / "enclosure" / "stand.scad"


@pytest.mark.parametrize("name", board_names())
def test_bom_rows_are_well_formed_and_total_matches_the_docs(name: str) -> None:
    rows = list(csv.DictReader((HARDWARE / "bom" / f"{name}.csv").open(encoding="utf-8")))
    assert rows and list(rows[0]) == ["part", "qty", "unit_eur", "note"]
    for row in rows:
        assert row["part"] and int(row["qty"]) > 0 and float(row["unit_eur"]) > 0, row
    total = sum(int(r["qty"]) * float(r["unit_eur"]) for r in rows)
    docs = (REPO / "docs" / "hardware.md").read_text(encoding="utf-8")
    assert f"| `{name}` | ≈ {total:.2f} EUR |" in docs


def test_wiring_files_are_generated_from_the_profile_and_current(capsys) -> None:
    assert wiring.main(["--check"]) == 0, "run python tools/wiring.py"
    table = (HARDWARE / "wiring" / "pico-arducam-ov2640.md").read_text()
    pins = load_board("pico-arducam-ov2640")["camera"]["pins"]
    for signal in ("cs", "mosi", "miso", "sck", "sda", "scl"):
        gp = pins[signal]
        assert f"| {signal.upper()} | GP{gp} | {wiring.PICO_PIN[gp]} |" in table
    svg = (HARDWARE / "wiring" / "pico-arducam-ov2640.svg").read_text()
    assert svg.startswith("<svg") and "GP5 (pin 7)" in svg and svg.count("<path") == len(wiring.connections(
        load_board("pico-arducam-ov2640")))


def test_wiring_check_fails_on_a_stale_drawing(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setattr(wiring, "OUT", tmp_path)
    assert wiring.main(["--check"]) == 1
    assert wiring.main([]) == 0 and wiring.main(["--check"]) == 0


def test_stand_model_has_its_parameters_and_every_board() -> None:
    text = STAND.read_text()
    assert text.count("(") == text.count(")") and text.count("[") == text.count("]") and text.count("{") == text.count("}")
    params = dict(re.findall(r"^(\w+) = ([^;]+);", text, re.M))
    assert 150 <= float(params["reading_distance"]) <= 250 and 0 <= float(params["tilt"]) <= 60
    table = set(re.findall(r'\["([a-z0-9-]+)",', text))
    assert table == set(board_names())


@pytest.mark.skipif(shutil.which("openscad") is None, reason="OpenSCAD not installed")
def test_stand_renders_for_every_board(tmp_path) -> None:
    for name in board_names():
        proc = subprocess.run(["openscad", "-o", str(tmp_path / f"{name}.stl"), "-D", f'board="{name}"', str(STAND)],
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0 and "hold the code" in proc.stderr, proc.stderr
