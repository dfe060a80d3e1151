"""`electeur deploy` for the USB keyboard: boot.py on native-USB HID boards, micropython-lib's usb-device-keyboard
installed with mpremote's mip (from a local mirror of the package index: no internet in tests), and
firmware/boot.py doing nothing, and saying why, where machine.USBDevice does not exist."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from conftest import REPO
from host_bridge.cli import main
from test_deploy import simboard  # noqa: F401  (fixture)

RUNNER = REPO / "tools" / "micropython" / "run.mjs"


def mirror(root: Path, packages: dict[str, tuple[dict[str, bytes], list[str]]]) -> Path:
    """A package index in mip's layout (package/<mpy>/<name>/latest.json, file/<h2>/<hash>)."""
    for name, (files, deps) in packages.items():
        hashes = []
        for path, data in files.items():
            h = hashlib.sha256(data).hexdigest()[:8]
            (root / "file" / h[:2]).mkdir(parents=True, exist_ok=True)
            (root / "file" / h[:2] / h).write_bytes(data)
            hashes.append([path, h])
        d = root / "package" / "6" / name
        d.mkdir(parents=True)
        (d / "latest.json").write_text(json.dumps({"hashes": hashes, "deps": [[x, "latest"] for x in deps], "version": "0.1"}))
    return root


KEYBOARD = {"usb-device-keyboard": ({"usb/device/keyboard.mpy": b"M\x06kbd"}, ["usb-device-hid"]),
            "usb-device-hid": ({"usb/device/hid.mpy": b"M\x06hid"}, ["usb-device"]),
            "usb-device": ({"usb/device/__init__.mpy": b"M\x06init", "usb/device/core.mpy": b"M\x06core"}, [])}


def test_hid_deploy_writes_boot_py_and_installs_the_keyboard_packages(simboard, tmp_path: Path, capsys) -> None:  # noqa: F811
    index = mirror(tmp_path / "index", KEYBOARD)
    board = simboard("--machine", "ESP32S3 module with ESP32S3")
    assert main(["deploy", "--board", "esp32-s3-eye", "--port", board.port, "--output", "hid", "--mip-index", str(index)]) == 0
    files = board.files()
    assert {"boot.py", "main.py", "firmware/boot.mpy", "lib/usb/device/keyboard.mpy", "lib/usb/device/hid.mpy",
            "lib/usb/device/core.mpy"} <= files
    assert (board.root / "lib/usb/device/keyboard.mpy").read_bytes() == b"M\x06kbd"
    assert b"import firmware.boot" in (board.root / "boot.py").read_bytes()
    assert "installed usb-device-keyboard into :lib" in capsys.readouterr().out


def test_an_unreachable_package_index_is_one_clear_error(simboard, tmp_path: Path, capsys) -> None:  # noqa: F811
    board = simboard("--machine", "ESP32S3 module with ESP32S3")
    (tmp_path / "empty").mkdir()
    assert main(["deploy", "--board", "esp32-s3-eye", "--port", board.port, "--output", "hid",
                 "--mip-index", str(tmp_path / "empty")]) == 2
    err = capsys.readouterr().err
    assert "could not install usb-device-keyboard" in err and "--mip-index" in err
    assert "main.py" not in board.files()               # an incomplete deploy never starts the reader


@pytest.mark.parametrize("board, output, boot, mip", [
    ("pico-arducam-ov2640", "hid", True, True),
    ("pico-arducam-ov2640", "framed", True, False),
    ("esp32-cam-ai-thinker", "framed", False, False),     # USB-serial bridge chip: no USB device of its own
])
def test_dry_run_shows_boot_py_and_the_package_install(board: str, output: str, boot: bool, mip: bool, capsys) -> None:
    assert main(["deploy", "--board", board, "--port", "/dev/ttyNOPE", "--dry-run", "--output", output]) == 0
    out = capsys.readouterr().out
    assert ("-> :boot.py" in out) is boot
    assert ("mpremote mip install usb-device-keyboard" in out) is mip


@pytest.mark.micropython
def test_boot_py_does_nothing_and_says_why_without_machine_usbdevice(tmp_path: Path) -> None:
    script = tmp_path / "boot_check.py"
    script.write_text("import firmware.boot as b\nprint('keyboard', b.keyboard)\n")
    proc = subprocess.run(["node", str(RUNNER), "--heap", "192k", "--mount", f"{REPO / 'firmware'}:/lib/firmware", str(script)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["e-lecteur boot: no USB keyboard: this MicroPython has no machine.USBDevice "
                                        "(native-USB board, MicroPython >= 1.23)", "keyboard None"]
