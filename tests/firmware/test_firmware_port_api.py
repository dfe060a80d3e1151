"""The firmware against each board's MicroPython port, statically, with the community stubs (micropython-stubs
1.27 per port, installed by `make setup`): every module it imports and every attribute it uses on a board."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from host_bridge.devtools import port_api


@pytest.fixture(autouse=True)
def stubs_installed() -> None:
    """A missing stubs folder is a broken setup, not a reason to skip the check."""
    assert all((port_api.STUBS / port).is_dir() for port in ("rp2", "esp32", "esp32s3")), \
        f"no micropython-stubs under {port_api.STUBS}: run `make setup`"


def test_every_api_the_firmware_uses_on_a_board_exists_on_its_port(capsys: pytest.CaptureFixture[str]) -> None:
    text, missing = port_api.report()
    with capsys.disabled():
        print("\n" + text)                          # the APIs checked, per board profile
    assert missing == 0, "\n".join(line for line in text.splitlines() if port_api.MISSING in line)
    for name, profile in port_api.profiles().items():
        assert any(line.startswith(name + " ") for line in text.splitlines()), name
    assert "openmv-h7-plus (port openmv): not checkable" in text
    pico = port_api.check_board(port_api.profiles()["pico-arducam-ov2640"])
    assert pico is not None
    checked = {u.api: u.status for u in pico}
    assert checked["machine.WDT"] == checked["machine.WDT().feed"] == checked["machine.SPI"] == port_api.OK
    assert checked["micropython.viper"] == port_api.OK                 # the viper source the board compiles
    assert checked["micropython.kbd_intr"] == port_api.OK              # the reader owns its serial line
    esp32_cam = {u.api: u.status for u in port_api.check_board(port_api.profiles()["esp32-cam-ai-thinker"]) or []}
    assert esp32_cam["machine.USBDevice"] == port_api.PROBED          # no native USB: boot.py's probe says so
    assert checked["zxingcpp"] == checked["threading"] == port_api.OPTIONAL   # host-only, behind except ImportError
    assert not any(u.api.startswith(("socket", "network")) for u in pico)       # the Pico has no tcp output


def test_the_simulators_entry_points_are_not_checked_as_board_code() -> None:
    modules = port_api.reachable(port_api.profiles()["esp32-cam-ai-thinker"])
    assert "firmware.main" in modules and "firmware.camera.esp32" in modules and "firmware.outputs.tcp" in modules
    assert "firmware.on_host" not in modules and "firmware.camera.arducam" not in modules
    assert "firmware.outputs.hid" not in modules                     # this board has no USB keyboard


def test_a_deliberate_bad_attribute_or_name_fails_the_check(tmp_path: Path) -> None:
    firmware = tmp_path / "firmware"
    shutil.copytree(port_api.FIRMWARE, firmware, ignore=shutil.ignore_patterns("__pycache__"))
    feedback = firmware / "feedback.py"
    feedback.write_text(feedback.read_text().replace("Pin.OUT", "Pin.OUTPUT", 1))
    watchdog = firmware / "watchdog.py"
    watchdog.write_text(watchdog.read_text().replace("self.wdt.feed()", "self.wdt.kick()")
                        + "\n\ndef hand_back():\n    import micropython\n    micropython.kbd_intr_off()\n")
    scan = firmware / "scan.py"
    scan.write_text(scan.read_text() + "\n\ntry:\n    from machine import WatchDog\nexcept ImportError:\n    pass\n")
    text, missing = port_api.report(root=firmware)
    bad = sorted({u.api for u in port_api.check_board(port_api.profiles()["pico-arducam-ov2640"], root=firmware) or []
                  if u.status.startswith(port_api.MISSING)})
    assert bad == ["machine.Pin.OUTPUT", "machine.WDT().kick", "machine.WatchDog", "micropython.kbd_intr_off"], text
    assert missing == 4 * 4                          # on each of the four boards with stubs
