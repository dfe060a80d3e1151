"""`electeur bench protocol`: what the wire protocol costs, against the links a reader really has.

- Throughput: QVGA gray frames encoded (reader side) and decoded (host side); the payload rate is shown as a
  fraction of a 2 Mbaud UART (8N1: 200,000 bytes/s) and of USB full speed CDC (19 bulk packets of 64 bytes per
  1 ms frame: 1,216,000 bytes/s), with the framing overhead. Encoding is also timed under MicroPython 1.27
  (wasm) when Node is available: the reader's CPU can be the bottleneck, not the link.
- Gray8 vs JPEG frames (quality as the virtual reader writes them, a camera module's usual setting): wire bytes
  per frame and frames/s each link carries.
- Capture -> read delivered: the real scan loop and outputs, in process, frames from a simulated camera; the
  link's transfer time at each rate is added to the measured time (same clock for reader and host). Once more
  with the outbox kept on flash (a temp dir here), counting the outbox file writes per read.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image
from tqdm import tqdm

from firmware import board, config, protocol as P
from firmware.camera.image_files import SimCamera
from firmware.clock import ticks_ms
from firmware.main import build
from host_bridge.argtypes import positive_int
from host_bridge.decode.engines import get_engine
from host_bridge.testbench.synthetic_frames import printed_code
from host_bridge.testbench import virtual_reader as vr
from host_bridge.testbench.benches import micropython_stdout
from host_bridge.link.frames import FrameReads
from host_bridge.link.reader_link import ReaderLink

NAME = "protocol"
HELP = "wire protocol throughput vs a 2 Mbaud UART and USB full speed; capture -> read delivered time"
LINKS = {"UART 2 Mbaud": 200_000, "USB full speed CDC": 1_216_000}


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("--frames", type=positive_int, default=30, help="QVGA frames per measurement (default 30)")


def encode_frame(data: bytes, kind: int = P.GRAY8) -> bytes:
    return b"".join(P.frame_messages(1, 1, kind, 320, 240, data))


def jpeg_bytes(gray: bytes) -> bytes:
    """A QVGA gray frame as the JPEG a camera module (and `--frame-format jpeg`) sends."""
    out = io.BytesIO()
    Image.frombytes("L", (320, 240), gray).save(out, "JPEG", quality=vr.JPEG_QUALITY)
    return out.getvalue()


def formats_table(frames: list[bytes], jpegs: list[bytes]) -> None:
    """Wire bytes per frame and frames/s per link, gray8 against JPEG."""
    gray_wire = statistics.median(len(encode_frame(f)) for f in frames)
    jpeg_wire = statistics.median(len(encode_frame(j, P.JPEG)) for j in jpegs)
    print(f"QVGA frame format   {'wire bytes/frame':>16}" + "".join(f" {name + ' frames/s':>30}" for name in LINKS))
    for name, wire in (("gray8", gray_wire), (f"JPEG q{vr.JPEG_QUALITY}", jpeg_wire)):
        print(f"{name:<19} {wire:>16,.0f}" + "".join(f" {rate / wire:>30.1f}" for rate in LINKS.values()))
    print(f"JPEG / gray8: {jpeg_wire / gray_wire:.3f} of the bytes, {gray_wire / jpeg_wire:.1f}x the frames/s")


def throughput(frames: list[bytes]) -> dict[str, float]:
    enc_s, dec_s, wire = [], [], 0
    dec = P.Decoder()
    for data in tqdm(frames, desc="encode/decode", file=sys.stderr, leave=False):
        t = time.perf_counter()
        w = encode_frame(data)
        enc_s.append(time.perf_counter() - t)
        t = time.perf_counter()
        dec.feed(w)
        dec_s.append(time.perf_counter() - t)
        wire += len(w)
    payload = sum(len(f) for f in frames)
    return {"encode_Bps": len(frames[0]) / statistics.median(enc_s), "decode_Bps": len(frames[0]) / statistics.median(dec_s),
            "overhead": wire / payload - 1}


MP_SCRIPT = """
import time
from firmware import protocol as P
buf = bytearray(320 * 240)
for i in range(0, len(buf), 7):
    buf[i] = i & 255
ts = []
for _ in range(%d):
    t = time.ticks_us()
    n = 0
    for w in P.frame_messages(1, 1, P.GRAY8, 320, 240, buf):
        n += len(w)
    ts.append(time.ticks_diff(time.ticks_us(), t))
ts.sort()
print("median_us", ts[len(ts) // 2])
"""


def micropython_encode_Bps(repeat: int) -> float | None:
    """Encoding speed of a QVGA frame under MicroPython (wasm), or None without Node / make setup."""
    out = micropython_stdout(MP_SCRIPT % repeat)
    m = re.search(r"median_us (\d+)", out or "")
    return 320 * 240 / (int(m.group(1)) / 1e6) if m else None


class HostSide:
    """The host end in process: a ReaderLink whose ACKs go back to the reader's input."""

    def __init__(self, stream_decode: bool) -> None:
        self.to_reader: list[bytes] = []
        self.delivered: list[tuple[int, int]] = []       # (captured_ms, delivered_ms)
        self.wire = 0
        # streamed frames decoded as the bridge does; every frame is a different code here: no duplicates
        on_frame = FrameReads(get_engine(), self.on_read, dedupe_ms=0) if stream_decode else None
        self.link = ReaderLink(self, self.on_read, on_frame=on_frame)

    def write(self, data: bytes) -> None:                 # the host writing to the reader
        self.to_reader.append(bytes(data))

    def on_read(self, reader: int, seq: int, payload: bytes, meta: dict) -> None:
        self.delivered.append((meta["captured_ms"], ticks_ms()))


class ReaderPort:
    def __init__(self, host: HostSide) -> None:
        self.host = host
        self.closed = False

    def write(self, data: bytes) -> None:
        self.host.wire += len(data)
        self.host.link.feed(data)

    def read(self) -> bytes:
        out = b"".join(self.host.to_reader)
        self.host.to_reader.clear()
        return out


def capture_to_read(frames_dir: Path, names: list[str], decode: str,
                    flash: Path | None = None) -> tuple[list[float], float, int]:
    """Per delivered read: measured ms (capture -> read delivered, no link delay); wire bytes per frame; and
    the outbox file writes made when `flash` keeps the outbox (a board's flash: persisted before sending)."""
    host = HostSide(stream_decode=decode == "host")
    cfg, _ = config.validate({"decode": decode, "heartbeat_ms": 0, "dedupe_ms": 0, "change_threshold": 0})
    cam = SimCamera([str(frames_dir / n) for n in names])
    loop, output, _ = build(board.SIM, cfg, ReaderPort(host), cam)
    if flash is not None:
        output.restore(str(flash / "outbox.bin"))
    output.start()

    async def go() -> None:
        while await loop.step():
            pass
        await output.drain(5000)
    asyncio.run(go())
    return [float(d - c) for c, d in host.delivered], host.wire / len(names), output.flash_writes


def run(args: argparse.Namespace) -> int:
    frames = [printed_code((320, 240), seed=i).tobytes() for i in range(args.frames)]
    t = throughput(frames)
    mp = micropython_encode_Bps(max(3, args.frames // 5))
    print(f"QVGA gray frame: {len(frames[0])} bytes, framing overhead {t['overhead'] * 100:.2f} %")
    print(f"{'side':<28} {'bytes/s':>12}" + "".join(f" {name:>20}" for name in LINKS))
    rows = [("host decode (CPython)", t["decode_Bps"]), ("reader encode (CPython)", t["encode_Bps"])]
    if mp:
        rows.append(("reader encode (MicroPython)", mp))
    for name, bps in rows:
        print(f"{name:<28} {bps:>12,.0f}" + "".join(f" {bps / rate:>19.2f}x" for rate in LINKS.values()))
    for name, rate in LINKS.items():
        payload = rate / (1 + t["overhead"])
        print(f"{name}: payload {payload:,.0f} bytes/s = {payload / rate:.3f} of the link; "
              f"{payload / len(frames[0]):.1f} QVGA gray frames/s")
    jpegs = [jpeg_bytes(f) for f in frames]
    formats_table(frames, jpegs)
    with tempfile.TemporaryDirectory() as tmp:
        names, jpeg_names = [], []
        for i, (data, jpeg) in enumerate(zip(frames, jpegs)):
            names.append(f"{i}.pgm")
            (Path(tmp) / names[-1]).write_bytes(b"P5\n320 240\n255\n" + data)
            jpeg_names.append(f"{i}.jpg")
            (Path(tmp) / jpeg_names[-1]).write_bytes(jpeg)
        print(f"capture -> read delivered, median of {len(frames)} frames (measured + link transfer):")
        for decode, label, files, flash in (("host", "stream gray8, host decodes", names, None),
                                            ("host", "stream JPEG, host decodes", jpeg_names, None),
                                            ("board", "on-board decoder, READ *", names, None),
                                            ("board", "same, outbox kept on flash *", names, Path(tmp))):
            ms, wire, writes = capture_to_read(Path(tmp), files, decode, flash)
            if not ms:
                print(f"  {label}: no read delivered")
                continue
            med = statistics.median(ms)
            links = "  ".join(f"{name} {med + wire / rate * 1000:.1f} ms" for name, rate in LINKS.items())
            print(f"  {label:<30} measured {med:.1f} ms ({len(ms)} reads, {wire:,.0f} wire bytes/frame)  {links}")
            if flash is not None:
                print(f"    outbox file writes: {writes} for {len(ms)} reads = {writes / len(ms):.2f} per read "
                      "(one when queued, one when acknowledged)")
    print("  * the simulated board's on-board decoder is zxing-cpp on CPython: a board's own decoder is slower")
    return 0
