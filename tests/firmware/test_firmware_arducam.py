"""ArduCAM Mini 2MP Plus set-up, against a stand-in bus (no camera on this machine): the OV2640 id check, a clear
error when the sensor is absent, mute or another chip, the register tables written, and gray frames from FIFO."""

from __future__ import annotations

import pytest

from firmware import board, config
from firmware.camera import arducam as A

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
    """The ArduCAM's SPI side: the test register, capture done at once, a FIFO holding `data`."""

    def __init__(self, data: bytes = b"", echo: bool = True) -> None:
        self.regs: dict[int, int] = {}
        self.data, self.echo = data, echo
        self.addr = 0
        self.burst = 0

    def write(self, data: bytes) -> None:
        if len(data) == 2:
            self.regs[data[0] & 0x7F] = data[1]
        elif data[0] == A.BURST:
            self.burst = 0
        else:
            self.addr = data[0]

    def read(self, n: int) -> bytes:
        n_fifo = len(self.data)
        value = {0x00: self.regs.get(0, 0) if self.echo else 0xFF, A.STATUS: A.DONE,
                 0x42: n_fifo & 0xFF, 0x43: n_fifo >> 8 & 0xFF, 0x44: n_fifo >> 16}.get(self.addr, 0)
        return bytes((value,))

    def readinto(self, buf: bytearray) -> None:
        buf[:] = self.data[self.burst:self.burst + len(buf)]
        self.burst += len(buf)

    def deinit(self) -> None:
        pass


def camera(i2c: Sccb, spi: Fifo | None = None, **cfg_keys) -> A.ArducamCamera:
    cfg, _ = config.validate(cfg_keys)
    return A.ArducamCamera(PINS, cfg, spi=spi or Fifo(), i2c=i2c, cs=lambda level: None)


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


def test_fixed_exposure_turns_aec_and_agc_off_and_scales_the_automatic_exposure() -> None:
    bus = Sccb()
    cam = camera(bus)
    bus.writes.clear()
    cam.set_exposure(25)                               # automatic exposure was 0x40 << 2 | 1 = 257 lines
    aec = (bus.regs[(1, A.AEC_HI)] & 0x3F) << 10 | bus.regs[(1, A.AEC_MID)] << 2 | bus.regs[(1, A.AEC_LO)] & 3
    assert aec == 257 * 25 // 100 and bus.regs[(1, A.COM8)] == A.MANUAL and bus.regs[(1, A.GAIN)] == 0
    cam.set_exposure(100)
    assert bus.regs[(1, A.COM8)] == A.AUTO
