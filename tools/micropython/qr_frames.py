"""MicroPython script run by tools/micropython/run.mjs (wasm port) or host_bridge.testbench.unix_port (unix port):
decode PGM frames with firmware.qr.

Prints `mem_info()` before and after (the host reads "GC: total"), and per frame a line
`frame <ms> <payload hex>,...`. Each frame is read into one reused bytearray, as a camera driver fills it.
Usage: run.mjs --mount firmware:/lib/firmware --mount DIR:/frames qr_frames.py [--portable] [--warmup] /frames/a.pgm ...
--warmup decodes the first frame once, untimed, before the timed loop: Node's WebAssembly engine
compiles hot code in tiers, so the first frame of a process runs slower than on a board.
--portable runs the portable pixel loops even where the port compiles the viper ones (firmware/qr/fast.py).
"""

import sys
import time

import micropython
from binascii import hexlify

from firmware.qr import decode
from firmware.qr.decoder import _fast

paths = sys.argv[1:]
fast = _fast
if paths[:1] == ["--portable"]:
    fast = None
    paths = paths[1:]
print("viper", fast is not None)
warmup = paths[:1] == ["--warmup"]
if warmup:
    paths = paths[1:2] + paths[1:]
micropython.mem_info()
buf = None
for n, path in enumerate(paths):
    with open(path, "rb") as f:
        f.readline()
        size = f.readline().split()
        f.readline()
        w = int(size[0])
        h = int(size[1])
        if buf is None or len(buf) != w * h:
            buf = None
            buf = bytearray(w * h)
        f.readinto(buf)
    t = time.ticks_ms()
    found = decode(buf, w, h, fast)
    ms = time.ticks_diff(time.ticks_ms(), t)
    if not (warmup and n == 0):
        print("frame", ms, ",".join(hexlify(p).decode() for p in found))
micropython.mem_info()
