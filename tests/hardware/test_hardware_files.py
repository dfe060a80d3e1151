"""hardware/: BOM per board with the totals docs/hardware.md shows, wiring generated from the profile pins and
current, and the stand model knowing every board."""

from __future__ import annotations

import csv
import importlib.util
import re
import shutil
import subprocess
from xml.etree import ElementTree

import pytest

from conftest import REPO
from host_bridge.devtools.boards import board_names, load_board

HARDWARE = REPO / "hardware"

spec = importlib.util.spec_from_file_location("wiring", REPO / "tools" / "wiring.py")
wiring = importlib.util.module_from_spec(spec)
spec.loader.exec_module(wiring)
STAND = HARDWARE / "enclosure" / "stand.scad"
SVG = "{http://www.w3.org/2000/svg}"


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
    assert svg.startswith("<svg") and "GP5 (pin 7)" in svg
    wired = ElementTree.fromstring(svg).find(f"{SVG}g[@data-bom='Female-female jumper wires 10 cm']")
    assert len(wired.findall(f"{SVG}path")) == len(wiring.connections(load_board("pico-arducam-ov2640")))


def text_boxes(root: ElementTree.Element) -> list[tuple[str, float, float, float, float]]:
    """(text, x0, y0, x1, y1) of every label: sans-serif glyphs average 0.6 em wide, cap height 0.75 em."""
    boxes = []
    for el in root.iter(f"{SVG}text"):
        size = float(el.get("font-size", root.get("font-size")))
        x, y, width = float(el.get("x")), float(el.get("y")), 0.6 * size * len(el.text)
        x0 = {"start": x, "middle": x - width / 2, "end": x - width}[el.get("text-anchor", "start")]
        boxes.append((el.text, x0, y - 0.8 * size, x0 + width, y + 0.25 * size))
    return boxes


def wire_segments(root: ElementTree.Element) -> list[tuple[float, float, float, float, float]]:
    """Boxes (x0, y0, x1, y1, half stroke) covering every wire: straight runs (M, H, V, L) exactly, cubic curves (C)
    as 32 short chords."""
    segments = []
    for el in root.iter(f"{SVG}path"):
        half = float(el.get("stroke-width", "1")) / 2
        x = y = 0.0
        for cmd, args in re.findall(r"([MLHVC])([-\d. ]+)", el.get("d")):
            v = [float(a) for a in args.split()]
            if cmd == "C":
                pts = [(x, y), (v[0], v[1]), (v[2], v[3]), (v[4], v[5])]
                points = [tuple(sum(c * (1 - t) ** (3 - i) * t ** i * q[k] for i, (c, q) in enumerate(zip((1, 3, 3, 1), pts)))
                                for k in (0, 1)) for t in (n / 32 for n in range(33))]
            else:
                points = [(x, y), (v[0], y) if cmd == "H" else (x, v[0]) if cmd == "V" else (v[0], v[1])]
            if cmd != "M":
                segments += [(min(a[0], b[0]), min(a[1], b[1]), max(a[0], b[0]), max(a[1], b[1]), half)
                             for a, b in zip(points, points[1:])]
            x, y = points[-1]
    return segments


def test_no_label_of_the_wiring_diagram_lies_on_a_wire() -> None:
    """The 3V3(OUT) label used to sit on the GP3 -> MOSI wire: MOSI seemed to leave the 3V3 pin."""
    root = ElementTree.parse(HARDWARE / "wiring" / "pico-arducam-ov2640.svg").getroot()
    segments = wire_segments(root)
    assert len(segments) > 20
    crossed = [(text, seg) for text, x0, y0, x1, y1 in text_boxes(root) for seg in segments
               if seg[0] - seg[4] < x1 and x0 < seg[2] + seg[4] and seg[1] - seg[4] < y1 and y0 < seg[3] + seg[4]]
    assert crossed == []


def test_every_bom_part_is_drawn_in_the_wiring_diagram() -> None:
    """The buzzer's resistor and its GND leg were missing; a BOM line without a drawing stops the generator."""
    root = ElementTree.parse(HARDWARE / "wiring" / "pico-arducam-ov2640.svg").getroot()
    drawn = {el.get("data-bom") for el in root.iter() if el.get("data-bom")}
    parts = [row["part"] for row in csv.DictReader((HARDWARE / "bom" / "pico-arducam-ov2640.csv").open(encoding="utf-8"))]
    assert set(parts) == drawn
    resistor = root.find(f"{SVG}g[@data-bom='Resistor 100 ohm 1/4 W']")
    assert resistor.find(f"{SVG}rect") is not None and "100 Ω" in resistor.find(f"{SVG}text").text
    table = (HARDWARE / "wiring" / "pico-arducam-ov2640.md").read_text()
    assert "| BUZZER - | GND | 18 |" in table
    with pytest.raises(SystemExit, match="has no drawing"):
        wiring.drawing_of("Lithium battery 3.7 V")


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
