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


def test_every_board_has_a_recommended_build_measured_at_the_stands_distance() -> None:
    """The getting-started guide recommended on-board QVGA decoding, which no stock lens reads a prescription with
    at the stand's 20 cm: each profile now names its build, and the note quotes what its frames gave."""
    import json
    measured = json.loads(optics.MEASURED.read_text())
    distance = optics.stand_distance_mm()
    assert distance == 200
    text = optics.render()
    assert optics.built() == optics.profiles()
    for profile in optics.profiles():
        build = optics.build_optics(profile, distance)
        assert build["codes"]["Rx"]["px"] >= optics.MARGINAL_PX, profile["name"]
        row = measured[profile["name"]]
        assert row["signature"] == optics.signature(profile, distance), "run python tools/optics.py --measure"
        assert row["Rx"] == f"{optics.SEEDS}/{optics.SEEDS}", profile["name"]
        assert f"| `{profile['name']}` | output {profile['recommended']['output']}" in text
    assert "not measured" not in text


def test_the_lens_of_each_recommended_build_is_in_its_bom() -> None:
    import csv
    for profile in optics.profiles():
        lens = profile["recommended"]["lens"]
        if lens:
            bom = REPO / "hardware" / "bom" / f"{profile['name']}.csv"
            assert lens["part"] in [r["part"] for r in csv.DictReader(bom.open(encoding="utf-8"))]


def test_a_rendered_prescription_reads_on_board_with_the_picos_lens_and_not_with_the_stock_one() -> None:
    """One measurement redone here (the firmware's decoder on a rendered QVGA frame): 17° lens yes, stock 60° no."""
    for hfov, reads in ((17, True), (60, False)):
        px = optics.px_per_module(320, hfov, 200, 20, 45)
        frame, payload = optics.render_frame("ordonnance", 110, px, (320, 240), seed=1)
        assert frame is not None and optics.read_frame(frame, payload, "board", 1) is reads


FRAMED_UXGA = "the build that reads both: --output framed with config decode host, stream_format jpeg, frame_size UXGA"


@pytest.mark.parametrize("board, args, warned", [
    ("esp32-s3-eye", ["--output", "hid"], [FRAMED_UXGA, "a 2 cm prescription QR gets 0.5 px per module"]),
    ("esp32-s3-eye", ["--output", "framed"], None),
    ("pico-arducam-ov2640", ["--output", "hid"], [FRAMED_UXGA, "a 2 cm prescription QR gets 0.6 px per module"]),
    # the 12 mm lens reads prescriptions on board, but a phone's apCV does not fit its field: warned too
    ("pico-arducam-ov2640", ["--output", "line", "--lens-hfov", "17"],
     [FRAMED_UXGA, "a phone-screen apCV (4 cm) does not fit its 60 × 45 mm field"]),
    ("pico-arducam-ov2640", ["--output", "framed"], None),
    ("pico-arducam-ov2640", [], None),  # no output: the recommended build, whole
    # framed, but the config decodes on board at QVGA: nothing streams to the host, so nothing reads
    ("pico-arducam-ov2640", ["--output", "framed", "--config", "ONBOARD"],
     [FRAMED_UXGA, "a 2 cm prescription QR gets 0.6 px per module"]),
])
def test_deploy_for_on_board_reading_warns_when_the_optics_cannot_read_a_prescription_and_an_apcv(
        capsys, tmp_path, board, args, warned) -> None:
    from host_bridge.cli import main
    onboard = tmp_path / "onboard.json"
    onboard.write_text('{"decode": "board", "frame_size": "QVGA"}')
    args = [str(onboard) if a == "ONBOARD" else a for a in args]
    assert main(["deploy", "--board", board, "--dry-run", *args]) == 0
    err = capsys.readouterr().err
    if warned is None:
        assert "warning" not in err
    else:
        assert err.startswith(f"warning: {board} with a ") and "will not read on board" in err
        for text in warned:
            assert text in err


def test_the_warnings_code_sizes_are_the_notes_and_an_on_board_build_that_reads_both_is_not_warned() -> None:
    from host_bridge.devtools import optics as model
    assert optics.qr_modules(110)[1] == model.RX_MODULES and optics.qr_modules(200)[1] == model.APCV_MODULES
    assert [c[2] for c in optics.CODES] == [model.RX_SIDE_MM, model.APCV_SIDE_MM]
    openmv = next(p for p in optics.profiles() if p["name"] == "openmv-h7-plus")
    assert model.onboard_warning(openmv, {"output": "hid", "frame_size": "VGA"}, 26) is None
    assert "prescription QR gets 1.5 px" in model.onboard_warning(openmv, {"output": "hid", "frame_size": "QVGA"}, 26)
