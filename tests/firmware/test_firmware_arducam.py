"""ArduCAM Mini 2MP Plus set-up, against a stand-in bus (no camera on this machine): the OV2640 id check, a clear
error when the sensor is absent, mute or another chip, the register tables written, gray frames from FIFO, and
JPEG frames (up to UXGA) streamed from the FIFO chunk by chunk to the host, with every bad FIFO a skipped frame."""

from __future__ import annotations

import asyncio
import io
import subprocess

import numpy as np

import pytest
from PIL import Image

from firmware import board, config
from firmware import protocol as P
from firmware.camera import arducam as A
from firmware.outputs.framed import FramedOutput
from firmware.scan import ScanLoop
from host_bridge.link.frames import frame_gray
from host_bridge.link.reader_link import Frame, ReaderLink

PINS = board.load("pico-arducam-ov2640")["camera"]


class Sccb:
    """An I2C bus with an OV2640 at 0x30: records register writes per bank, answers the id registers."""

    def __init__(self, pid: int = 0x26, ver: int = 0x42, present: bool = True, acks: bool = True) -> None:
        self.pid, self.ver, self.present, self.acks = pid, ver, present, acks
        self.writes: list[tuple[int, int]] = []
        self.regs = {(1, A.AEC_HI): 0x00, (1, A.AEC_MID): 0x40, (1, A.AEC_LO): 0x01}
        self.bank = 0
        self.pointer = 0

    def scan(self) -> list[int]:
        return [0x30] if self.present else []

    def writeto(self, addr: int, data: bytes) -> None:
        if addr != 0x30 or not self.acks:
            raise OSError(19)           # ENODEV: no ACK
        if len(data) == 1:
            self.pointer = data[0]
            return
        reg, val = data
        self.writes.append((reg, val))
        if reg == A.BANK:
            self.bank = val
        else:
            self.regs[(self.bank, reg)] = val

    def readfrom(self, addr: int, n: int) -> bytes:
        ids = {A.PID: self.pid, A.VER: self.ver}
        if self.bank == 1 and self.pointer in ids:
            return bytes((ids[self.pointer],))
        return bytes((self.regs.get((self.bank, self.pointer), 0),))


class Fifo:
    """The ArduCAM's SPI side: the test register, capture done at once (or never), a FIFO holding `data` whose
    length register says `length` (default: len(data)); `reads` records the size of each burst read."""

    def __init__(self, data: bytes = b"", echo: bool = True, length: int | None = None, done: bool = True) -> None:
        self.regs: dict[int, int] = {}
        self.data, self.echo, self.done = data, echo, done
        self.length = len(data) if length is None else length
        self.addr = 0
        self.burst = 0
        self.reads: list[int] = []

    def write(self, data: bytes) -> None:
        if len(data) == 2:
            self.regs[data[0] & 0x7F] = data[1]
        elif data[0] == A.BURST:
            self.burst = 0
        else:
            self.addr = data[0]

    def read(self, n: int) -> bytes:
        n_fifo = self.length
        value = {0x00: self.regs.get(0, 0) if self.echo else 0xFF, A.STATUS: A.DONE if self.done else 0,
                 0x42: n_fifo & 0xFF, 0x43: n_fifo >> 8 & 0xFF, 0x44: n_fifo >> 16}.get(self.addr, 0)
        return bytes((value,))

    def readinto(self, buf: bytearray | memoryview) -> None:
        buf[:] = self.data[self.burst:self.burst + len(buf)].ljust(len(buf), b"\0")
        self.burst += len(buf)
        self.reads.append(len(buf))

    def deinit(self) -> None:
        pass


def camera(i2c: Sccb, spi: Fifo | None = None, cs: list[int] | None = None, **cfg_keys) -> A.ArducamCamera:
    cfg, _ = config.validate(cfg_keys)
    return A.ArducamCamera(PINS, cfg, spi=spi or Fifo(), i2c=i2c, cs=(cs if cs is not None else []).append)


def pairs(table: bytes) -> list[tuple[int, int]]:
    return [(table[i], table[i + 1]) for i in range(0, len(table), 2)]


def test_gray_setup_checks_the_ov2640_id_then_resets_and_writes_the_qvga_table_in_yuyv() -> None:
    bus = Sccb()
    cam = camera(bus)
    assert (cam.width, cam.height, cam.jpeg) == (320, 240, False)
    assert bus.writes[:3] == [(A.BANK, 1), (A.BANK, 1), (A.COM7, A.RESET)]
    assert bus.writes[3:-2] == pairs(A.INIT_GRAY) and len(bus.writes[3:-2]) > 150
    assert bus.writes[-2:] == [(A.BANK, 0), (A.IMAGE_MODE, A.YUYV)]


def test_jpeg_setup_writes_the_jpeg_tables_and_the_frame_size() -> None:
    bus = Sccb(ver=0x41)
    cam = camera(bus, decode="host", stream_format="jpeg", frame_size="QQVGA")
    assert (cam.width, cam.height, cam.jpeg) == (160, 120, True)
    expected = pairs(A.INIT_JPEG) + [(A.BANK, 1), (0x15, 0)] + pairs(A.SIZE_QVGA_JPEG) + pairs(A.SIZE_QQVGA_JPEG)
    assert bus.writes[3:] == expected


@pytest.mark.parametrize("bus, spi, says", [
    (Sccb(present=False), Fifo(), "no camera sensor at I2C 0x30"),
    (Sccb(acks=False), Fifo(), "does not acknowledge"),
    (Sccb(pid=0x56, ver=0x42), Fifo(), "is not an OV2640"),
    (Sccb(ver=0x99), Fifo(), "is not an OV2640"),
    (Sccb(), Fifo(echo=False), "does not answer on SPI"),
])
def test_absent_mute_or_wrong_camera_is_a_clear_error_naming_the_wiring(bus: Sccb, spi: Fifo, says: str) -> None:
    with pytest.raises(A.CameraError) as err:
        camera(bus, spi)
    assert says in str(err.value)
    if "OV2640" not in says:
        assert "SDA GP8 SCL GP9" in str(err.value) or "CS GP5" in str(err.value)
    assert (A.COM7, A.RESET) not in bus.writes         # nothing written to a sensor that failed its check


def test_gray_frame_is_the_y_bytes_of_the_yuyv_fifo() -> None:
    y = bytes((i * 7) & 0xFF for i in range(320 * 240))
    yuyv = bytes(b for v in y for b in (v, 0x80))
    cam = camera(Sccb(), Fifo(yuyv))
    kind, w, h, buf, _ = cam.capture()
    assert (kind, w, h) == (0, 320, 240) and bytes(buf) == y
    short = camera(Sccb(), Fifo(yuyv[:1000]))
    assert short.capture() is None                     # a truncated FIFO is no frame, not a torn one


def test_the_viper_luma_copy_gives_the_portable_bytes(tmp_path) -> None:
    """The Y bytes of a YUYV row: the viper twin (CPython stand-in, then compiled and run by the unix port's
    viper emitter) writes what the portable loop writes, and only there."""
    from host_bridge.testbench import unix_port
    from host_bridge.testbench.firmware_cost import viper_under_cpython
    row = bytes((i * 13) & 0xFF for i in range(640))
    portable, viper = bytearray(b"\xee" * 1000), bytearray(b"\xee" * 1000)
    A.luma_portable(row, portable, 17, 320)
    viper_under_cpython(A.LUMA_VIPER, "luma").luma(row, viper, 17, 320)
    assert portable == viper and portable[17:337] == row[::2]
    assert portable[:17] + portable[337:] == b"\xee" * 680  # nothing written outside the row
    if not unix_port.available():
        pytest.skip("the MicroPython unix port is not installed")
    script = tmp_path / "luma.py"
    script.write_text("from firmware.camera import arducam as A\n"
                      "row = bytes((i * 13) & 0xFF for i in range(640))\n"
                      "a, b = bytearray(1000), bytearray(1000)\n"
                      "A.luma_portable(row, a, 17, 320)\n"
                      "A.luma(row, b, 17, 320)\n"
                      "print(A.luma is not A.luma_portable, a == b)\n")
    run = subprocess.run(unix_port.argv("64k", str(script)), capture_output=True, text=True, timeout=120)
    assert run.stdout.split() == ["True", "True"], run.stdout + run.stderr


def test_fixed_exposure_turns_aec_and_agc_off_and_scales_the_automatic_exposure() -> None:
    bus = Sccb()
    cam = camera(bus)
    bus.writes.clear()
    cam.set_exposure(25)                               # automatic exposure was 0x40 << 2 | 1 = 257 lines
    aec = (bus.regs[(1, A.AEC_HI)] & 0x3F) << 10 | bus.regs[(1, A.AEC_MID)] << 2 | bus.regs[(1, A.AEC_LO)] & 3
    assert aec == 257 * 25 // 100 and bus.regs[(1, A.COM8)] == A.MANUAL and bus.regs[(1, A.GAIN)] == 0
    cam.set_exposure(100)
    assert bus.regs[(1, A.COM8)] == A.AUTO


UXGA = {"decode": "host", "stream_format": "jpeg", "frame_size": "UXGA"}


def uxga_jpeg() -> bytes:
    """A 1600x1200 JPEG as the OV2640 gives one (a real JPEG, noisy enough to weigh ~400 KB)."""
    rng = np.random.default_rng(3)
    gray = np.clip(rng.normal(128, 40, (1200, 1600)), 0, 255).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(gray).save(out, "JPEG", quality=75)
    return out.getvalue()


class HostPort:
    """The framed output's USB serial port, its bytes kept for the host."""

    def __init__(self) -> None:
        self.sent = bytearray()

    def read(self) -> bytes:
        return b""

    def write(self, data: bytes) -> None:
        self.sent += data


def framed(port: HostPort, **cfg_keys) -> FramedOutput:
    cfg, _ = config.validate({"output": "framed", "frame_ack_ms": 0, **cfg_keys})
    return FramedOutput(port, cfg, board.load("pico-arducam-ov2640"))


def host_frames(wire: bytes) -> tuple[list[Frame], list[dict]]:
    """What the host bridge's link makes of the wire bytes: the frames reassembled (CRC checked), the ERRORs."""
    frames: list[Frame] = []
    errors: list[dict] = []
    link = ReaderLink(HostPort(), lambda *a: None, on_frame=lambda r, f: frames.append(f),
                      on_message=lambda msg: errors.append(msg.json()) if msg.type == P.ERROR else None)
    link.feed(wire)
    return frames, errors


def test_uxga_jpeg_setup_writes_arducams_1600x1200_table_over_the_qvga_one() -> None:
    bus = Sccb()
    cam = camera(bus, **UXGA)
    assert (cam.width, cam.height, cam.jpeg) == (1600, 1200, True)
    expected = pairs(A.INIT_JPEG) + [(A.BANK, 1), (0x15, 0)] + pairs(A.SIZE_QVGA_JPEG) + pairs(A.SIZE_UXGA_JPEG)
    assert bus.writes[3:] == expected
    assert (0x5A, 0x90) in pairs(A.SIZE_UXGA_JPEG) and (0x5C, 0x05) in pairs(A.SIZE_UXGA_JPEG)   # 1600/4, 1200/4


def test_a_uxga_jpeg_streams_from_the_fifo_chunk_by_chunk_and_the_host_gets_the_fifos_bytes() -> None:
    jpeg = uxga_jpeg()
    fifo_bytes = jpeg + b"\x00" * 7                  # the length register counts a few bytes past FFD9
    fifo, cs = Fifo(fifo_bytes), []
    cam = camera(Sccb(), fifo, cs, **UXGA)
    port = HostPort()
    kind, w, h, source, _ = cam.capture()
    assert (kind, w, h, len(source)) == (P.JPEG, 1600, 1200, len(fifo_bytes)) and len(jpeg) > 240 * 1024
    cs.clear()
    assert asyncio.run(framed(port).send_frame((kind, w, h, source, 0)))
    assert cs == [1]                                   # one burst, CS low from the capture to the last byte
    assert fifo.reads[0] == 2 and max(fifo.reads) == P.CHUNK     # SOI checked, then read 1 KB at a time
    assert sum(fifo.reads) == len(fifo_bytes)
    frames, errors = host_frames(bytes(port.sent))
    assert errors == [] and len(frames) == 1
    assert frames[0].kind == "jpeg" and frames[0].data == fifo_bytes    # exactly the FIFO's bytes, CRC matched
    assert frame_gray(frames[0]).shape == (1200, 1600)  # the JPEG decoder stops at FFD9: the padding is harmless


@pytest.mark.parametrize("fifo, says", [
    (Fifo(b"\xff\xd8" + bytes(100), length=0), "FIFO length 0 is no 1600x1200 JPEG"),
    (Fifo(b"\xff\xd8" + bytes(100), length=0x7FFFFF), "FIFO length 8388607"),      # the 8 MB FIFO overflowed
    (Fifo(b"\xff\xd8" + bytes(100), length=1600 * 1200 + 1), "FIFO length 1920001"),
    (Fifo(b"\x00\xff\xd8" + bytes(100)), "starts 00ff, not a JPEG"),
    (Fifo(b"\xff\xd8" + bytes(100), done=False), "capture not done after"),
])
def test_a_bad_fifo_is_a_skipped_frame_that_says_why_and_the_scan_goes_on(
        fifo: Fifo, says: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(A, "CAPTURE_MS", 30)
    cs: list[int] = []
    cam = camera(Sccb(), fifo, cs, **UXGA)
    cs.clear()
    port = HostPort()
    cfg, _ = config.validate({"output": "framed", "heartbeat_ms": 1, **UXGA})
    loop = ScanLoop(cfg, cam, None, framed(port), None)
    assert asyncio.run(loop.step()) is True            # not the end of the camera's frames: the loop goes on
    assert says in cam.error and loop.stats["streamed"] == 0
    assert cs.count(0) == cs.count(1)                  # no burst left open
    assert sum(fifo.reads) <= 2                        # nothing streamed but the SOI check
    fifo.data, fifo.length, fifo.done = b"\xff\xd8" + bytes(300) + b"\xff\xd9", 304, True
    assert asyncio.run(loop.step()) is True and cam.error is None and loop.stats["streamed"] == 1
    frames, _ = host_frames(bytes(port.sent))
    assert [f.data for f in frames] == [fifo.data]


def test_a_frame_overwritten_by_a_newer_capture_is_abandoned_with_an_error_and_the_next_streams() -> None:
    fifo = Fifo(b"\xff\xd8" + bytes(5000) + b"\xff\xd9")
    cam = camera(Sccb(), fifo, **UXGA)
    old = cam.capture()
    new = cam.capture()                                # the FIFO now holds another frame: the old one is gone
    port = HostPort()
    out = framed(port)
    assert asyncio.run(out.send_frame(old)) is False and out.frame_pending is None
    assert asyncio.run(out.send_frame(new)) is True
    frames, errors = host_frames(bytes(port.sent))
    assert [e["code"] for e in errors] == ["frame"] and "newer capture" in errors[0]["message"]
    assert [len(f.data) for f in frames] == [5004]
