# Run under MicroPython (tests/firmware/test_firmware_micropython.py): the scan loop streaming QVGA frames through the
# framed output to a loopback host that ACKs each frame; prints micropython.mem_info() after every frame.
import asyncio
import gc
import sys

import micropython

from firmware import board, config, protocol as P
from firmware.camera.image_files import SimCamera
from firmware.main import build


class LoopbackHost:
    """Counts what the reader sends and ACKs each FRAME_END/READ (small frames only: no big decode here)."""

    def __init__(self):
        self.sent = 0
        self.acks = []
        self.closed = False

    def write(self, data):
        self.sent += len(data)
        if len(data) < 64:
            msg = P.decode_frame(data[:-1])
            if msg.type in (P.FRAME_END, P.READ):
                self.acks.append(P.ack(msg.reader, msg.seq))

    def read(self):
        out = b"".join(self.acks)
        self.acks = []
        return out


async def main(paths):
    cfg, _ = config.validate({"decode": "host", "heartbeat_ms": 0})
    host = LoopbackHost()
    loop, output, _ = build(board.SIM, cfg, host, SimCamera(paths, 0, False), decoder=None)
    output.start()
    gc.collect()
    micropython.mem_info()
    while await loop.step():
        gc.collect()
        micropython.mem_info()
    print("frames", loop.stats["streamed"], "bytes", host.sent)


asyncio.run(main([sys.argv[1] + "/" + n for n in sys.argv[2:]]))
