"""MicroPython script (unix port: host_bridge.testbench.unix_port) for `electeur bench firmware-viper`: each PGM
frame decoded by firmware.qr with its viper pixel loops and with the portable ones, alternately, REPEAT times
each; per frame a line `frame <viper us> <portable us> <same 0|1> <codes read>` (times: the fastest of the
repeats, so that a busy machine's noise falls on both paths alike). Exit 3 when the port has no viper.
Usage: qr_viper.py REPEAT a.pgm ...
"""

import sys
import time

from firmware.qr import decode
from firmware.qr.decoder import _fast

if _fast is None:
    print("no viper")
    sys.exit(3)
repeat = int(sys.argv[1])
buf = None
for path in sys.argv[2:]:
    with open(path, "rb") as f:
        f.readline()
        w, h = [int(x) for x in f.readline().split()]
        f.readline()
        if buf is None or len(buf) != w * h:
            buf = None
            buf = bytearray(w * h)
        f.readinto(buf)
    best = [None, None]
    found = [None, None]
    for _ in range(repeat):
        for i, fast in enumerate((_fast, None)):
            t = time.ticks_us()
            found[i] = decode(buf, w, h, fast)
            us = time.ticks_diff(time.ticks_us(), t)
            best[i] = us if best[i] is None else min(best[i], us)
    print("frame", best[0], best[1], int(found[0] == found[1]), len(found[0]))
