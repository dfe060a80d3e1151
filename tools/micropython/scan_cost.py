"""Script for MicroPython (tools/micropython/run.mjs) and CPython: the scan loop's cost per changed frame.

Runs firmware.scan.ScanLoop (change detector off: every frame is new, as a hand moving in view) with the
firmware's own QR decoder over PGM frames, presence test on or off, and prints per frame
`frame <name> <presence_edges> <ms> <decoded 0|1> <reads> <us of the presence test alone>`.
Usage: scan_cost.py EDGES DIR NAME.pgm ...   (EDGES: config presence_edges, 0 = off)
"""

import asyncio
import sys

from firmware import board, config
from firmware.camera.image_files import read_pgm
from firmware.clock import ticks_diff, ticks_ms
from firmware.decoders import OwnQrDecoder
from firmware import qr
from firmware.presence import edges as presence_edges
from firmware.scan import ScanLoop


class Frames:
    def __init__(self, paths):
        self.paths = paths
        self.buf = None

    def capture(self):
        if not self.paths:
            return None
        w, h, self.buf = read_pgm(self.paths.pop(0), self.buf)
        return 0, w, h, self.buf, ticks_ms()

    def set_light(self, on):
        pass


class Silent:
    def poll(self):
        pass

    async def emit(self, payload, fmt="qr", engine="", captured_ms=0):
        return False


async def main(edges, d, names):
    cfg, _ = config.validate({"heartbeat_ms": 0, "decode": "board", "change_threshold": 0, "presence_edges": edges,
                              "dedupe_ms": 0})
    loop = ScanLoop(cfg, Frames([d + "/" + n for n in names]), OwnQrDecoder(qr), Silent(), feedback=None)
    for name in names:
        decoded, reads = loop.stats["decoded"], loop.stats["reads"]
        t = ticks_ms()
        await loop.step()
        ms = ticks_diff(ticks_ms(), t)
        frame = (0, 320, 240, loop.camera.buf)
        t = ticks_ms()
        for _ in range(20):
            presence_edges(frame)
        print("frame", name, edges, ms, loop.stats["decoded"] - decoded, loop.stats["reads"] - reads,
              ticks_diff(ticks_ms(), t) * 50)


asyncio.run(main(int(sys.argv[1]), sys.argv[2], sys.argv[3:]))
