"""Every board profile in hardware/boards/ is valid against hardware/schema/board.schema.json."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest

from host_bridge.devtools.boards import BOARDS_DIR, SCHEMA_PATH, board_names, load_board
from host_bridge.errors import UserError

SCHEMA = json.loads(SCHEMA_PATH.read_text())
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA)


def test_schema_is_itself_valid() -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_the_board_families_of_the_design_are_all_there() -> None:
    mcus = {load_board(n)["mcu"] for n in board_names()}
    drivers = {load_board(n)["camera"]["driver"] for n in board_names()}
    assert {"esp32", "esp32s3", "rp2040", "stm32h7"} <= mcus
    assert {"esp32_camera", "arducam_spi", "openmv_sensor"} <= drivers


@pytest.mark.parametrize("name", board_names())
def test_profile_validates_and_is_named_after_its_file(name: str) -> None:
    profile = load_board(name)
    errors = [e.message for e in VALIDATOR.iter_errors(profile)]
    assert errors == []
    assert profile["name"] == name


@pytest.mark.parametrize("mutate, fragment", [
    (lambda p: p.update(outputs=["tcp"], wifi=False), "should not be valid"),
    (lambda p: p["usb"].update(vid="1a86"), "does not match"),
    (lambda p: p["camera"]["pins"].update(d0=99), "maximum"),
    (lambda p: p.pop("flash"), "'flash' is a required property"),
    (lambda p: p["flash"].pop("offset"), "'offset' is a required property"),
])
def test_schema_rejects_broken_profiles(mutate, fragment: str) -> None:
    profile = copy.deepcopy(load_board("esp32-cam-ai-thinker"))
    mutate(profile)
    messages = " | ".join(e.message for e in VALIDATOR.iter_errors(profile))
    assert fragment in messages


def test_unknown_board_lists_the_known_names() -> None:
    with pytest.raises(UserError) as err:
        load_board("esp32-typo")
    assert "pico-arducam-ov2640" in str(err.value) and "esp32-typo" in str(err.value)
    assert not (BOARDS_DIR / "esp32-typo.json").exists()


@pytest.mark.micropython
def test_every_profile_parses_with_micropython_json() -> None:
    """The profile is copied to the board as board.json: MicroPython 1.27's own json must read it."""
    import subprocess

    from conftest import REPO

    blocks = [f"import json\np = json.loads({(BOARDS_DIR / f'{n}.json').read_text()!r})\n"
              "print(p['name'], len(p['camera']['pins']), p['usb']['hid'])" for n in board_names()]
    proc = subprocess.run(["node", str(REPO / "tests" / "helpers" / "mp_replay.mjs")], input=json.dumps(blocks),
                          capture_output=True, text=True, timeout=120, cwd=REPO / "tests")
    got = [r["out"].strip() for r in json.loads(proc.stdout)]
    want = [f"{n} {len(load_board(n)['camera']['pins'])} {load_board(n)['usb']['hid']}" for n in board_names()]
    assert got == want
