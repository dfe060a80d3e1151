"""The firmware loads every board profile of hardware/boards/ and runs the virtual reader with it, on CPython and
on MicroPython 1.27 (wasm port): firmware.board.load reads the profile, firmware.main.build wires the output, the
feedback (LED/buzzer pins: no `machine` module here, so they only count) and the scan loop from it, and the reader
announces the board in its HELLO and streams the frame it sees. Simulated: the camera (SimCamera reading a PGM
file; the profile's real driver needs the hardware) and the port (bytes collected in memory)."""

from __future__ import annotations

import asyncio
import subprocess

import pytest

from firmware import protocol as P
from host_bridge.devtools.boards import BOARDS_DIR, board_names
from tests.helpers.micropython import MP_RUNTIMES, mp_argv

SCRIPT = """
import asyncio
from firmware import board as boards, config
from firmware.camera.image_files import SimCamera
from firmware.main import build


class MemoryPort:
    def __init__(self):
        self.out = bytearray()

    def write(self, data):
        self.out += data

    def read(self):
        return b""


def virtual_reader(profile_path, frame_path):
    prof = boards.load(path=profile_path)
    cfg, errors = config.validate({"output": "framed", "decode": "host", "change_threshold": 0, "heartbeat_ms": 0})
    port = MemoryPort()
    loop, output, messages = build(prof, cfg, port, SimCamera([frame_path], 0, False))
    output.start()
    return prof, port, loop, errors + messages
"""  # the caller runs one scan step: asyncio.run at top level (the wasm runner awaits only top-level runs)


def frame(tmp_path) -> str:
    path = tmp_path / "f.pgm"
    path.write_bytes(b"P5\n32 24\n255\n" + bytes(range(256)) * 3)
    return str(path)


def check(wire: bytes, name: str) -> None:
    msgs = P.Decoder().feed(wire)
    hello = [m.json() for m in msgs if m.type == P.HELLO]
    assert hello and hello[0]["board"] == name
    starts = [P.parse_frame_start(m) for m in msgs if m.type == P.FRAME_START]
    assert len(starts) == 1 and starts[0][1:3] == (32, 24)


@pytest.mark.parametrize("name", board_names())
def test_virtual_reader_runs_with_each_profile_on_cpython(name: str, tmp_path) -> None:
    namespace: dict = {}
    exec(SCRIPT, namespace)
    prof, port, loop, problems = namespace["virtual_reader"](str(BOARDS_DIR / f"{name}.json"), frame(tmp_path))
    asyncio.run(loop.step())
    assert prof["name"] == name and problems == []
    check(bytes(port.out), name)


@pytest.mark.parametrize("runtime", MP_RUNTIMES)
def test_virtual_reader_runs_with_each_profile_on_micropython(runtime, tmp_path) -> None:
    script = tmp_path / "boards.py"
    script.write_text(SCRIPT + "".join(
        f"p, port, loop, e = virtual_reader('/boards/{n}.json', '/frames/f.pgm')\nasyncio.run(loop.step())\n"
        "print(p['name'], len(e), bytes(port.out).hex())\n"
        for n in board_names()))
    (tmp_path / "frames").mkdir()
    frame(tmp_path / "frames")
    if runtime == "micropython-unix":       # its files are the host's: the script names them as mounted
        script.write_text(script.read_text().replace("'/boards/", f"'{BOARDS_DIR}/").replace("'/frames/", f"'{tmp_path}/frames/"))
    proc = subprocess.run(mp_argv(runtime, "192k", script, mounts={BOARDS_DIR: "/boards", tmp_path / "frames": "/frames"}),
                          capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    lines = proc.stdout.decode().split()
    rows = [lines[i:i + 3] for i in range(0, len(lines), 3)]
    assert [r[0] for r in rows] == board_names() and {r[1] for r in rows} == {"0"}
    for name, _, hexed in rows:
        check(bytes.fromhex(hexed), name)
