"""`electeur bench pairing`: what the paired link (firmware/secure.py) costs the reader and the host.

Per READ (payloads of 60, 300 and 1,500 bytes) and per streamed QVGA gray frame: the reader's encode time plain
and sealed (SHA-256 counter-mode encryption + HMAC-SHA256), on CPython and under MicroPython 1.27 (wasm, the
firmware as it runs in the virtual reader), with the ratio sealed/plain of the same run; the handshake's time
on the reader; the heap the link keeps (MicroPython, after the runner's GC) and the bytes one sealed READ
allocates; SHA-256 compressions per READ, the figure that carries over to a board's hashlib.
"""

from __future__ import annotations

import argparse
import re
from functools import partial
from typing import Any

from firmware import protocol as P
from firmware import secure
from firmware.hmac256 import Hmac
from host_bridge.argtypes import positive_int
from host_bridge.testbench.benches import median_us, micropython_stdout

NAME = "pairing"
HELP = "cost of the paired (sealed) TCP link per READ, per frame, per handshake and on the reader's heap"
SIZES = (60, 300, 1500)
KEY = bytes(range(32))

MP_SCRIPT = """
import asyncio, gc, time
from firmware import protocol as P
REPEAT = %d
SIZES = %r

def median_us(f, batch=1):
    # this port's clock ticks in ms: a batch of calls per timing
    ts = []
    for _ in range(REPEAT):
        t = time.ticks_us()
        for _ in range(batch):
            f()
        ts.append(time.ticks_diff(time.ticks_us(), t) // batch)
    ts.sort()
    return ts[len(ts) // 2]

async def main():
    await asyncio.sleep_ms(20)
    base = gc.mem_alloc()
    from firmware import secure as S
    from firmware.secure_port import SecurePort
    await asyncio.sleep_ms(20)
    print("import_bytes", gc.mem_alloc() - base)
    key = bytes(range(32))
    await asyncio.sleep_ms(20)
    before = gc.mem_alloc()
    r = S.ReaderAuth(key, 1)
    h = S.HostAuth(lambda rid: key)
    h_us = median_us(lambda: h.accept(P.decode_frame(r.challenge()[:-1])), 20)
    both_us = median_us(lambda: r.respond(P.decode_frame(h.accept(P.decode_frame(r.challenge()[:-1]))[0][:-1])), 20)
    r_us = both_us - h_us               # the reader's share of a whole handshake
    print("handshake_reader_us", r_us, "host_us", h_us)
    h = reply = None                    # the host's half is not on the reader
    s = r.session
    await asyncio.sleep_ms(20)
    print("session_bytes", gc.mem_alloc() - before)
    for n in SIZES:
        data = bytes(i & 255 for i in range(n))
        plain = median_us(lambda: P.read(1, 7, data, "qr", "quirc", 5), 50)
        sealed = median_us(lambda: s.seal(P.read(1, 7, data, "qr", "quirc", 5)), 50)
        await asyncio.sleep_ms(20)
        a = gc.mem_alloc()
        wire = P.read(1, 7, data, "qr", "quirc", 5)
        b = gc.mem_alloc()
        s.seal(wire)
        print("read", n, plain, sealed, b - a, gc.mem_alloc() - b)
        await asyncio.sleep_ms(5)
    buf = bytearray(320 * 240)
    frame_plain = median_us(lambda: [w for w in P.frame_messages(1, 1, P.GRAY8, 320, 240, buf)])
    frame_sealed = median_us(lambda: [s.seal(w) for w in P.frame_messages(1, 1, P.GRAY8, 320, 240, buf)])
    print("frame", frame_plain, frame_sealed)

asyncio.run(main())
"""


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("--repeat", type=positive_int, default=20, help="timings per figure (median; default 20)")


def compressions(size: int) -> int:
    """SHA-256 compressions to seal one READ of `size` payload bytes (the work a board's hashlib does): one per
    32 keystream bytes, then HMAC's inner pass over ipad | header | ciphertext (with SHA-256's 9-byte padding)
    and its outer pass over opad | digest (2 blocks)."""
    ct = len(P.read(1, 7, bytes(size), "qr", "quirc", 5)) - 1
    return (ct + 31) // 32 + (64 + P.HEADER_LEN + ct + 9 + 63) // 64 + 2


def _sealed_read(session: secure.Session, data: bytes) -> bytes:
    return bytes(session.seal(P.read(1, 7, data, "qr", "quirc", 5)))


def run(args: argparse.Namespace) -> int:
    hk = Hmac(KEY)
    reader, host = secure.Session(hk, b"bench", 1, False), secure.Session(hk, b"bench", 1, True)

    def host_open(msg: P.Message) -> None:
        host.last = 0                   # the same frame opened again: not a replay for the bench
        host.open(msg)
    print(f"{'READ payload':>14} {'sha256 blocks':>14} {'CPython plain us':>17} {'sealed us':>10} {'x':>6} "
          f"{'host open us':>13} {'wire bytes +':>13}")
    for n in SIZES:
        data = bytes(i & 255 for i in range(n))
        plain_wire = P.read(1, 7, data, "qr", "quirc", 5)
        plain = median_us(partial(P.read, 1, 7, data, "qr", "quirc", 5), args.repeat)
        sealed = median_us(partial(_sealed_read, reader, data), args.repeat)
        wire = reader.seal(plain_wire)
        msg = P.decode_frame(wire[:-1])
        opened = median_us(partial(host_open, msg), args.repeat)
        print(f"{n:>14} {compressions(n):>14} {plain:>17.0f} {sealed:>10.0f} {sealed / plain:>6.1f} {opened:>13.0f} "
              f"{len(wire) - len(plain_wire):>13}")
    mp = micropython_figures(args.repeat)
    if mp is None:
        print("MicroPython: not measured (needs Node and `make setup`)")
        return 0
    print(f"\nMicroPython 1.27 (wasm), median of {args.repeat}:")
    print(f"  handshake on the reader: {mp['handshake_reader_us']:,} us (host side {mp['host_us']:,} us)")
    print(f"  heap: code of secure + secure_port {mp['import_bytes']:,} B, handshake state and session "
          f"{mp['session_bytes']:,} B")
    print(f"{'READ payload':>14} {'plain us':>10} {'sealed us':>10} {'x':>6} {'B allocated: encode':>20} {'+ seal':>8}")
    for n, plain, sealed, enc_alloc, seal_alloc in mp["reads"]:
        print(f"{n:>14} {plain:>10,} {sealed:>10,} {sealed / plain:>6.1f} {enc_alloc:>20,} {seal_alloc:>8,}")
    fp, fs = mp["frame"]
    print(f"  QVGA gray frame streamed: plain {fp / 1000:,.1f} ms, sealed {fs / 1000:,.1f} ms ({fs / fp:.1f}x)")
    return 0


def micropython_figures(repeat: int) -> dict[str, Any] | None:
    out = micropython_stdout(MP_SCRIPT % (repeat, SIZES), timeout_s=900)
    if out is None:
        return None

    def num(name: str) -> int:
        return int(re.search(rf"{name} (-?\d+)", out).group(1))  # type: ignore[union-attr]
    return {"import_bytes": num("import_bytes"), "session_bytes": num("session_bytes"),
            "handshake_reader_us": num("handshake_reader_us"), "host_us": num("host_us"),
            "reads": [tuple(int(x) for x in m) for m in re.findall(r"read (\d+) (\d+) (\d+) (-?\d+) (-?\d+)", out)],
            "frame": tuple(int(x) for x in re.search(r"frame (\d+) (\d+)", out).groups())}  # type: ignore[union-attr]
