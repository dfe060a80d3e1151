"""`electeur bench pico-frame`: how long a Pico takes to stream one UXGA JPEG from the ArduCAM FIFO to the host
bridge (the Pico's recommended build, docs/optics.md), from what can be measured without a Pico.

Measured: the firmware's work per 1 KB chunk (the scan loop's FramedOutput.send_frame over the FIFO: read, CRC-32,
COBS, write, one scheduler round) as loop iterations, counted under CPython with a line tracer, and as time on
MicroPython's unix port with the Pico's heap (tools/micropython/arducam_stream.py bench). Derived: the RP2040's
time for that work (iterations x 7.5-21 µs, docs/performance.md "Per-board estimate"), the SPI FIFO read at the
profile's spi_hz, and USB full speed (its bulk ceiling, and half of it: MicroPython's CDC is not measured here).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import io
import statistics
import subprocess
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from firmware import protocol as P
from host_bridge.argtypes import positive_int
from host_bridge.errors import UserError
from host_bridge.package_data import board_file, firmware_dir, micropython_script
from host_bridge.testbench import unix_port
from host_bridge.testbench.firmware_cost import count_loops, source_loops
from host_bridge.testbench.synthetic_frames import printed_code
from host_bridge.testbench.virtual_reader import BOARD_HEAP

NAME = "pico-frame"
HELP = "time per UXGA JPEG frame on a Pico: FIFO over SPI, firmware per chunk (measured), USB full speed"
SCRIPT = micropython_script("arducam_stream.py")
BOARD = "pico-arducam-ov2640"
US_PER_ITERATION = (7.5, 21.0)  # RP2040 @125 MHz per bytecode loop iteration, light to heavy (docs/performance.md)
USB_BULK = 19 * 64 * 1000       # bytes/s: full speed carries at most 19 bulk packets of 64 bytes per 1 ms frame
SIZES_KB = (100, 150, 250)      # ArduCAM's UXGA JPEGs


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("--repeat", type=positive_int, default=5, help="frames streamed on the unix port (default 5)")


def write_frame(folder: Path) -> int:
    """A UXGA JPEG of a printed code in a counter scene with sensor noise (quality 80, as tools/optics.py); its size."""
    gray = printed_code((1600, 1200), seed=1).astype(np.float32)
    gray += np.random.default_rng(1).normal(0.0, 3.0, gray.shape)
    out = io.BytesIO()
    Image.fromarray(np.clip(gray, 0, 255).astype(np.uint8)).save(out, "JPEG", quality=80)
    (folder / "f.jpg").write_bytes(out.getvalue())
    (folder / "frames.txt").write_text("f.jpg\n")
    return len(out.getvalue())


def iterations_per_chunk(folder: Path) -> float:
    """Loop iterations (for/while headers passed) in firmware/ while one frame streams, per chunk, plus one per
    chunk for the scheduler round of `await pause()` (MicroPython's asyncio loop; CPython's is not counted)."""
    spec = importlib.util.spec_from_file_location("arducam_stream", SCRIPT)
    stream = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(stream)  # type: ignore[union-attr]
    loop, _, fifo, _ = stream.reader(str(folder), str(board_file(BOARD)), stream.LoopbackHost())
    count = count_loops(lambda: asyncio.run(loop.step()), source_loops(firmware_dir()))[0]
    chunks: int = -(-fifo.length // P.CHUNK)
    return count / chunks + 1


def unix_port_us_per_chunk(folder: Path, repeat: int) -> float:
    """Median microseconds per chunk over `repeat` frames on the unix port (Pico heap), capture to frame end."""
    cmd = unix_port.argv(BOARD_HEAP, str(SCRIPT), "bench", str(folder), str(board_file(BOARD)), str(repeat))
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    rows = [line.split()[1:] for line in proc.stdout.splitlines() if line.startswith("frame ")]
    if proc.returncode != 0 or not rows:
        raise UserError(f"pico-frame on the unix port failed: {proc.stderr[-1500:]}")
    return statistics.median(int(us) / int(chunks) for _, chunks, us in rows)


def run(args: argparse.Namespace) -> int:
    import json
    spi_hz = json.loads(board_file(BOARD).read_text(encoding="utf-8"))["camera"]["spi_hz"]
    with tempfile.TemporaryDirectory(prefix="electeur-pico-frame-") as tmp:
        size = write_frame(Path(tmp))
        iterations = iterations_per_chunk(Path(tmp))
        unix_us = unix_port_us_per_chunk(Path(tmp), args.repeat)
    wire = len(P.encode(P.FRAME_CHUNK, 1, bytes(4) + np.random.default_rng(0).bytes(P.CHUNK)))
    firmware_ms = [iterations * us / 1000 for us in US_PER_ITERATION]
    spi_ms = P.CHUNK * 8 / spi_hz * 1000
    usb_ms = (wire / USB_BULK * 1000, wire / (USB_BULK / 2) * 1000)
    print(f"UXGA JPEG streamed: {size} bytes, {-(-size // P.CHUNK)} chunks of {P.CHUNK} bytes ({wire} bytes each on the wire)")
    print(f"measured  firmware per chunk: {iterations:.1f} bytecode loop iterations (CPython line tracer, firmware/ "
          f"+ 1 scheduler round); {unix_us:.1f} µs on the unix port (x64, median of {args.repeat} frames)")
    print(f"derived   RP2040 per chunk: firmware {firmware_ms[0]:.2f}-{firmware_ms[1]:.2f} ms "
          f"({US_PER_ITERATION[0]:g}-{US_PER_ITERATION[1]:g} µs x iterations), SPI FIFO read {spi_ms:.2f} ms "
          f"({spi_hz / 1e6:g} MHz), USB full speed {usb_ms[0]:.2f}-{usb_ms[1]:.2f} ms ({USB_BULK / 1e6:.3f} MB/s bulk "
          "ceiling, or half)")
    low, high = firmware_ms[0] + spi_ms + usb_ms[0], firmware_ms[1] + spi_ms + usb_ms[1]
    for kb in SIZES_KB:
        chunks = kb * 1024 / P.CHUNK
        print(f"derived   {kb} KB UXGA JPEG: {chunks * low / 1000:.2f}-{chunks * high / 1000:.2f} s to stream "
              "(chunk read, then sent: no overlap assumed)")
    return 0
