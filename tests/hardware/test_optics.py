"""tools/optics.py: numbers checked against a hand calculation, and docs/optics.md is what the script writes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from host_bridge.devtools.boards import board_names
from conftest import REPO

spec = importlib.util.spec_from_file_location("optics", REPO / "tools" / "optics.py")
optics = importlib.util.module_from_spec(spec)
spec.loader.exec_module(optics)


def test_hand_calculation_ov2640_at_20_cm() -> None:
    # By hand: tan(33°) = 0.649408; FOV = 2 × 200 mm × 0.649408 = 259.76 mm.
    # UXGA: 1600 px / 259.76 mm = 6.1595 px/mm; a 2 cm version-7 QR has 45 modules of 0.4444 mm → 2.738 px.
    assert optics.fov_width_mm(66, 200) == pytest.approx(259.76, abs=0.01)
    assert optics.qr_modules(110) == (7, 45)
    assert optics.px_per_module(1600, 66, 200, 20, 45) == pytest.approx(2.738, abs=0.001)
    # 3 px/module at QVGA: d = 320 × 0.4444 / (3 × 2 × 0.649408) = 36.5 mm.
    assert optics.max_distance_mm(320, 66, 20, 45) == pytest.approx(36.5, abs=0.1)
    assert optics.hfov_for(1600, 200, 20, 45) == pytest.approx(61.3, abs=0.1)  # 2·atan(1600·0.4444/1200 = 0.5926)


def test_rendered_note_carries_the_numbers_and_every_board() -> None:
    text = optics.render()
    assert "| UXGA (1600 px) | **3.7** | 2.7~ | 2.2~ |" in text  # 66° OV2640 row, Rx at 15/20/25 cm
    assert "QR version 7, 45×45 modules" in text
    for name in board_names():
        assert name in text


def test_docs_optics_md_is_current(capsys) -> None:
    assert optics.main(["--check"]) == 0, "docs/optics.md is stale: run python tools/optics.py"


def test_check_detects_a_stale_note(tmp_path: Path, monkeypatch, capsys) -> None:
    stale = tmp_path / "optics.md"
    stale.write_text(optics.render().replace("**3.7**", "**9.9**"))
    monkeypatch.setattr(optics, "OUT", stale)
    assert optics.main(["--check"]) == 1
    assert "out of date" in capsys.readouterr().err
