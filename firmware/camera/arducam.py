# ArduCAM Mini 2MP Plus (OV2640) on SPI, for the Pico: JPEG capture through the ArduCAM FIFO protocol
# (register write [addr|0x80, val], read [addr & 0x7F]; 0x04 FIFO control, 0x41 bit 0x08 capture done,
# 23-bit FIFO length in 0x42-0x44, 0x3C burst read). Sensor set-up over I2C 0x30 is left to its defaults.
import time
from machine import I2C, SPI, Pin

FIFO = 0x04
CLEAR_DONE, START, RESET_PTRS = 0x01, 0x02, 0x30
STATUS, DONE = 0x41, 0x08
BURST = 0x3C
MAX_JPEG = 64 * 1024


class ArducamCamera:
    def __init__(self, cam, cfg):
        p = cam["pins"]
        self.cs = Pin(p["cs"], Pin.OUT, value=1)
        self.spi = SPI(p.get("spi", 0), cam.get("spi_hz", 4000000), sck=Pin(p["sck"]), mosi=Pin(p["mosi"]), miso=Pin(p["miso"]))
        self.i2c = I2C(p.get("i2c", 0), sda=Pin(p["sda"]), scl=Pin(p["scl"]))
        self.write(0x00, 0x55)
        if self.read(0x00) != 0x55:
            raise OSError("ArduCAM SPI test register does not answer")

    def write(self, addr, val):
        self.cs(0)
        self.spi.write(bytes((addr | 0x80, val)))
        self.cs(1)

    def read(self, addr):
        self.cs(0)
        self.spi.write(bytes((addr & 0x7F,)))
        v = self.spi.read(1)[0]
        self.cs(1)
        return v

    def capture(self):
        self.write(FIFO, RESET_PTRS)
        self.write(FIFO, CLEAR_DONE)
        self.write(FIFO, START)
        t = time.ticks_ms()
        while not self.read(STATUS) & DONE:
            if time.ticks_diff(time.ticks_ms(), t) > 2000:
                return None
        n = (self.read(0x42) | self.read(0x43) << 8 | self.read(0x44) << 16) & 0x7FFFFF
        if not 0 < n <= MAX_JPEG:
            return None
        buf = bytearray(n)
        self.cs(0)
        self.spi.write(bytes((BURST,)))
        self.spi.readinto(buf)
        self.cs(1)
        return 1, 0, 0, buf, t

    def set_light(self, on):
        pass

    def close(self):
        self.spi.deinit()
