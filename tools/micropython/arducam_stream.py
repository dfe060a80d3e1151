# The Pico reader's firmware as deployed (ArducamCamera driver, scan loop, framed output) on MicroPython, with
# stand-in buses in place of the ArduCAM Mini 2MP Plus (no camera on this machine): the SPI FIFO serves the JPEG
# files listed in FRAMES/frames.txt, one per capture, read from the file piece by piece as the real FIFO is (they
# may be larger than the heap).
#   arducam_stream.py serve FRAMES BOARD.json
#     over stdio (tests/firmware/test_firmware_arducam_uxga.py: a pty to `electeur run`): waits for a host to
#     speak, scans every frame, drains, then prints on stderr (bytes)
#       heap TOTAL FREE-AT-START PEAK-ALLOC LARGEST-FRAME
#     the peak being the live heap's (after a collection), sampled at every message written: every chunk.
#   arducam_stream.py bench FRAMES BOARD.json REPEAT
#     (`electeur bench pico-frame`) streams the frames REPEAT times each to a loopback host that ACKs every
#     frame at once, and prints per frame "frame BYTES CHUNKS US" (microseconds from capture to the frame's end).
import gc
import sys

from firmware import board as boards, config, protocol as P
from firmware.camera import arducam as A
from firmware.clock import sleep_ms
from firmware.main import build, serve
from firmware.ports import StdioPort, own_line

try:
    from time import ticks_diff, ticks_us
except ImportError:                     # CPython (`electeur bench pico-frame` counts the loop iterations there)
    from time import perf_counter_ns

    def ticks_us():
        return perf_counter_ns() // 1000

    def ticks_diff(a, b):
        return a - b


class Sccb:
    """The OV2640 on I2C: acknowledges every write, answers its id registers."""

    def __init__(self):
        self.bank = 0
        self.pointer = 0

    def scan(self):
        return [A.SENSOR]

    def writeto(self, addr, data):
        if len(data) == 1:
            self.pointer = data[0]
        elif data[0] == A.BANK:
            self.bank = data[1]

    def readfrom(self, addr, n):
        if self.bank == A.SENSOR_BANK and self.pointer == A.PID:
            return bytes((A.OV2640_PID,))
        return bytes((A.OV2640_VER[-1] if self.pointer == A.VER else 0,))


class Fifo:
    """The ArduCAM's SPI side: each capture start puts the next file in the FIFO; a burst reads it in order."""

    def __init__(self, root, names):
        self.root, self.names = root, names
        self.next = 0
        self.file = None
        self.length = 0
        self.test = 0
        self.addr = 0
        self.largest = 0

    def write(self, data):
        if len(data) == 2:
            reg = data[0] & 0x7F
            if reg == 0:
                self.test = data[1]
            elif reg == A.FIFO and data[1] & A.START:
                self.capture()
        elif data[0] == A.BURST:
            self.file.seek(0)
        else:
            self.addr = data[0]

    def capture(self):
        if self.file:
            self.file.close()
            self.file = None
        self.length = 0
        if self.next < len(self.names):
            self.file = open(self.root + "/" + self.names[self.next], "rb")
            self.length = self.file.seek(0, 2)
            self.largest = max(self.largest, self.length)
            self.next += 1

    def read(self, n):
        n_fifo = self.length
        value = {0: self.test, A.STATUS: A.DONE, 0x42: n_fifo & 0xFF, 0x43: n_fifo >> 8 & 0xFF,
                 0x44: n_fifo >> 16}.get(self.addr, 0)
        return bytes((value,))

    def readinto(self, buf):
        self.file.readinto(buf)

    def deinit(self):
        pass


class LoopbackHost:
    """The host end for the bench: takes every message, ACKs each frame at once (a host that decodes instantly)."""

    def __init__(self):
        self.acks = []
        self.closed = False

    def write(self, data):
        if len(data) < 64:
            msg = P.decode_frame(data[:-1])
            if msg.type == P.FRAME_END:
                self.acks.append(P.ack(msg.reader, msg.seq, P.FRAME_NOTHING))

    def read(self):
        out = b"".join(self.acks)
        self.acks = []
        return out


class MeteredPort(StdioPort):
    """The USB serial port, sampling the live heap (after a collection) at every write: every message of a
    streamed frame."""
    peak = 0

    def write(self, data):
        gc.collect()
        used = gc.mem_alloc()
        if used > MeteredPort.peak:
            MeteredPort.peak = used
        StdioPort.write(self, data)


async def scan(loop, output, fifo):
    for i in range(3000):               # a heartbeat every 0.2 s until a host answers (the bridge speaks once it
        if i % 10 == 0:                 # heard a valid frame), at most 60 s
            output.status({"waiting": i})
        output.poll()
        if output.decoder.frames:
            break
        await sleep_ms(20)
    gc.collect()
    free = gc.mem_free()
    total = free + gc.mem_alloc()
    while fifo.next < len(fifo.names):
        await loop.step()
    await output.drain(20000)
    for _ in range(50):                 # the last frame's ACK, if the host is slower than the drain
        output.poll()
        await sleep_ms(20)
    sys.stderr.write("heap %d %d %d %d\n" % (total, free, MeteredPort.peak, fifo.largest))


def reader(root, board_path, port, repeat=1):
    """(scan loop, output, FIFO stand-in) of the Pico's recommended build (framed, UXGA JPEG to the host)."""
    prof = boards.load(path=board_path)
    with open(root + "/frames.txt") as f:
        names = [line.strip() for line in f if line.strip()]
    cfg, errors = config.validate({"output": "framed", "decode": "host", "stream_format": "jpeg",
                                   "frame_size": "UXGA", "change_threshold": 0, "heartbeat_ms": 0})
    fifo = Fifo(root, names * repeat)
    camera = A.ArducamCamera(prof["camera"], cfg, spi=fifo, i2c=Sccb(), cs=lambda level: None)
    camera.driver = "arducam_spi"
    loop, output, messages = build(prof, cfg, port, camera, decoder=None)
    return loop, output, fifo, errors + messages


async def bench(loop, fifo):
    while fifo.next < len(fifo.names):
        t = ticks_us()
        await loop.step()
        print("frame %d %d %d" % (fifo.length, (fifo.length + P.CHUNK - 1) // P.CHUNK, ticks_diff(ticks_us(), t)))


def main(argv):
    mode, root, board_path = argv[:3]
    if mode == "bench":
        import asyncio
        loop, _, fifo, _ = reader(root, board_path, LoopbackHost(), int(argv[3]))
        asyncio.run(bench(loop, fifo))
        return
    own_line(True)
    loop, output, fifo, messages = reader(root, board_path, MeteredPort())
    serve(loop, output, loop.cfg, messages, loop.camera, coro=scan(loop, output, fifo))


if __name__ == "__main__":
    main(sys.argv[1:])
