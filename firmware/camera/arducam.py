# ArduCAM Mini 2MP Plus (OV2640) for the Pico: the sensor is set up over I2C (SCCB at 0x30), frames come out of
# the ArduCAM FIFO over SPI (register write [addr|0x80, val], read [addr & 0x7F]; 0x04 FIFO control, 0x41 bit
# 0x08 capture done, 23-bit FIFO length in 0x42-0x44, 0x3C burst read).
# Frames: JPEG at QQVGA/QVGA/UXGA, or gray8 at QVGA (YUV422 with Y first: the even bytes of each FIFO row).
# A JPEG is never held in RAM (a UXGA one, 100-250 KB, does not fit beside the firmware in a Pico's heap): the
# capture checks its SOI marker and hands a FifoJpeg, read chunk by chunk inside one burst while the output streams
# it.
# Register tables are (register, value) byte pairs, from ArduCAM's OV2640 driver (ArduCAM/PICO_SPI_CAM,
# C/ArduCAM/ov2640_regs.h, 0BSD licence; sensor settings data): bytes constants, not lists of tuples, to keep them out of the heap's object space.
import time

from firmware import protocol as P
from firmware.clock import ticks_diff, ticks_ms

SENSOR = 0x30                           # OV2640 SCCB address (7-bit)
BANK, DSP, SENSOR_BANK = 0xFF, 0x00, 0x01
PID, VER = 0x0A, 0x0B                   # sensor bank: product id 0x26, version 0x40-0x42 by silicon revision
OV2640_PID, OV2640_VER = 0x26, (0x40, 0x41, 0x42)
COM7, RESET = 0x12, 0x80
COM8, AUTO, MANUAL = 0x13, 0xE5, 0xE0   # bit 0 AEC, bit 2 AGC (on in AUTO)
GAIN, AEC_HI, AEC_MID, AEC_LO = 0x00, 0x45, 0x10, 0x04
IMAGE_MODE, YUYV = 0xDA, 0x01           # DSP bank: YUV422, high byte (Y) first
FIFO = 0x04
CLEAR_DONE, START, RESET_PTRS = 0x01, 0x02, 0x30
STATUS, DONE = 0x41, 0x08
BURST = 0x3C
SOI = b"\xff\xd8"                       # a JPEG's first two bytes
# A FIFO length past width*height bytes (1 byte per pixel; the host refuses more, host_bridge/link/assembly.py)
# is no JPEG of a scene (ArduCAM's UXGA JPEGs are 0.05-0.13 byte per pixel): the 8 MB FIFO overflowed (0x7FFFFF,
# ArduCAM's MAX_FIFO_SIZE) or a capture never closed its frame; streaming megabytes of it would stall the reader.
JPEG_BYTES_PER_PIXEL = 1
CAPTURE_MS = 2000                       # a sensor frame takes a fraction of this: past it, the capture never completes
JPEG_SIZES = {"QQVGA": (160, 120), "QVGA": (320, 240), "UXGA": (1600, 1200)}

# QVGA, YUV422/RGB565 output (ArduCAM's OV2640_QVGA); IMAGE_MODE is set to YUYV after it
INIT_GRAY = (
    b"\xff\x00\x2c\xff\x2e\xdf\xff\x01\x3c\x32\x11\x00\x09\x02\x04\xa8\x13\xe5\x14\x48\x2c\x0c\x33\x78"
    b"\x3a\x33\x3b\xfb\x3e\x00\x43\x11\x16\x10\x39\x02\x35\x88\x22\x0a\x37\x40\x23\x00\x34\xa0\x06\x02"
    b"\x06\x88\x07\xc0\x0d\xb7\x0e\x01\x4c\x00\x4a\x81\x21\x99\x24\x40\x25\x38\x26\x82\x5c\x00\x63\x00"
    b"\x46\x22\x0c\x3a\x5d\x55\x5e\x7d\x5f\x7d\x60\x55\x61\x70\x62\x80\x7c\x05\x20\x80\x28\x30\x6c\x00"
    b"\x6d\x80\x6e\x00\x70\x02\x71\x94\x73\xc1\x3d\x34\x12\x04\x5a\x57\x4f\xbb\x50\x9c\xff\x00\xe5\x7f"
    b"\xf9\xc0\x41\x24\xe0\x14\x76\xff\x33\xa0\x42\x20\x43\x18\x4c\x00\x87\xd0\x88\x3f\xd7\x03\xd9\x10"
    b"\xd3\x82\xc8\x08\xc9\x80\x7c\x00\x7d\x00\x7c\x03\x7d\x48\x7d\x48\x7c\x08\x7d\x20\x7d\x10\x7d\x0e"
    b"\x90\x00\x91\x0e\x91\x1a\x91\x31\x91\x5a\x91\x69\x91\x75\x91\x7e\x91\x88\x91\x8f\x91\x96\x91\xa3"
    b"\x91\xaf\x91\xc4\x91\xd7\x91\xe8\x91\x20\x92\x00\x93\x06\x93\xe3\x93\x03\x93\x03\x93\x00\x93\x02"
    b"\x93\x00\x93\x00\x93\x00\x93\x00\x93\x00\x93\x00\x93\x00\x96\x00\x97\x08\x97\x19\x97\x02\x97\x0c"
    b"\x97\x24\x97\x30\x97\x28\x97\x26\x97\x02\x97\x98\x97\x80\x97\x00\x97\x00\xa4\x00\xa8\x00\xc5\x11"
    b"\xc6\x51\xbf\x80\xc7\x10\xb6\x66\xb8\xa5\xb7\x64\xb9\x7c\xb3\xaf\xb4\x97\xb5\xff\xb0\xc5\xb1\x94"
    b"\xb2\x0f\xc4\x5c\xa6\x00\xa7\x20\xa7\xd8\xa7\x1b\xa7\x31\xa7\x00\xa7\x18\xa7\x20\xa7\xd8\xa7\x19"
    b"\xa7\x31\xa7\x00\xa7\x18\xa7\x20\xa7\xd8\xa7\x19\xa7\x31\xa7\x00\xa7\x18\x7f\x00\xe5\x1f\xe1\x77"
    b"\xdd\x7f\xc2\x0e\xff\x00\xe0\x04\xc0\xc8\xc1\x96\x86\x3d\x51\x90\x52\x2c\x53\x00\x54\x00\x55\x88"
    b"\x57\x00\x50\x92\x5a\x50\x5b\x3c\x5c\x00\xd3\x04\xe0\x00\xff\x00\x05\x00\xda\x08\xd7\x03\xe0\x00"
    b"\x05\x00"
)
# JPEG set-up (OV2640_JPEG_INIT, OV2640_YUV422, OV2640_JPEG)
INIT_JPEG = (
    b"\xff\x00\x2c\xff\x2e\xdf\xff\x01\x3c\x32\x11\x00\x09\x02\x04\x28\x13\xe5\x14\x48\x2c\x0c\x33\x78"
    b"\x3a\x33\x3b\xfb\x3e\x00\x43\x11\x16\x10\x39\x92\x35\xda\x22\x1a\x37\xc3\x23\x00\x34\xc0\x36\x1a"
    b"\x06\x88\x07\xc0\x0d\x87\x0e\x41\x4c\x00\x48\x00\x5b\x00\x42\x03\x4a\x81\x21\x99\x24\x40\x25\x38"
    b"\x26\x82\x5c\x00\x63\x00\x61\x70\x62\x80\x7c\x05\x20\x80\x28\x30\x6c\x00\x6d\x80\x6e\x00\x70\x02"
    b"\x71\x94\x73\xc1\x12\x40\x17\x11\x18\x43\x19\x00\x1a\x4b\x32\x09\x37\xc0\x4f\x60\x50\xa8\x6d\x00"
    b"\x3d\x38\x46\x3f\x4f\x60\x0c\x3c\xff\x00\xe5\x7f\xf9\xc0\x41\x24\xe0\x14\x76\xff\x33\xa0\x42\x20"
    b"\x43\x18\x4c\x00\x87\xd5\x88\x3f\xd7\x03\xd9\x10\xd3\x82\xc8\x08\xc9\x80\x7c\x00\x7d\x00\x7c\x03"
    b"\x7d\x48\x7d\x48\x7c\x08\x7d\x20\x7d\x10\x7d\x0e\x90\x00\x91\x0e\x91\x1a\x91\x31\x91\x5a\x91\x69"
    b"\x91\x75\x91\x7e\x91\x88\x91\x8f\x91\x96\x91\xa3\x91\xaf\x91\xc4\x91\xd7\x91\xe8\x91\x20\x92\x00"
    b"\x93\x06\x93\xe3\x93\x05\x93\x05\x93\x00\x93\x04\x93\x00\x93\x00\x93\x00\x93\x00\x93\x00\x93\x00"
    b"\x93\x00\x96\x00\x97\x08\x97\x19\x97\x02\x97\x0c\x97\x24\x97\x30\x97\x28\x97\x26\x97\x02\x97\x98"
    b"\x97\x80\x97\x00\x97\x00\xc3\xed\xa4\x00\xa8\x00\xc5\x11\xc6\x51\xbf\x80\xc7\x10\xb6\x66\xb8\xa5"
    b"\xb7\x64\xb9\x7c\xb3\xaf\xb4\x97\xb5\xff\xb0\xc5\xb1\x94\xb2\x0f\xc4\x5c\xc0\x64\xc1\x4b\x8c\x00"
    b"\x86\x3d\x50\x00\x51\xc8\x52\x96\x53\x00\x54\x00\x55\x00\x5a\xc8\x5b\x96\x5c\x00\xd3\x00\xc3\xed"
    b"\x7f\x00\xda\x00\xe5\x1f\xe1\x67\xe0\x00\xdd\x7f\x05\x00\x12\x40\xd3\x04\xc0\x16\xc1\x12\x8c\x00"
    b"\x86\x3d\x50\x00\x51\x2c\x52\x24\x53\x00\x54\x00\x55\x00\x5a\x2c\x5b\x24\x5c\x00\xff\x00\x05\x00"
    b"\xda\x10\xd7\x03\xdf\x00\x33\x80\x3c\x40\xe1\x77\x00\x00\xe0\x14\xe1\x77\xe5\x1f\xd7\x03\xda\x10"
    b"\xe0\x00\xff\x01\x04\x08"
)
# JPEG 320x240 (OV2640_320x240_JPEG)
SIZE_QVGA_JPEG = (
    b"\xff\x01\x12\x40\x17\x11\x18\x43\x19\x00\x1a\x4b\x32\x09\x4f\xca\x50\xa8\x5a\x23\x6d\x00\x39\x12"
    b"\x35\xda\x22\x1a\x37\xc3\x23\x00\x34\xc0\x36\x1a\x06\x88\x07\xc0\x0d\x87\x0e\x41\x4c\x00\xff\x00"
    b"\xe0\x04\xc0\x64\xc1\x4b\x86\x35\x50\x89\x51\xc8\x52\x96\x53\x00\x54\x00\x55\x00\x57\x00\x5a\x50"
    b"\x5b\x3c\x5c\x00\xe0\x00"
)
# JPEG 160x120 over the QVGA table: the DSP's zoom and output size, between DVP reset and release
SIZE_QQVGA_JPEG = b"\xe0\x04\x50\x92\x5a\x28\x5b\x1e\xe0\x00"
# JPEG 1600x1200 over the QVGA table (OV2640_1600x1200_JPEG, as ArduCAM's OV2640_set_JPEG_size writes it): the
# sensor at full resolution (COM7 0x00, CLKRC 0x01), the DSP's output 1600x1200 (0x5A/0x5B/0x5C). JPEG quality:
# the sensor's default quantisation scale (DSP 0x44), which ArduCAM's driver leaves as is too; ArduCAM's UXGA
# frames are 100-250 KB, 0.2-0.9 s to stream (docs/performance.md), and a finer scale would only lengthen them.
SIZE_UXGA_JPEG = (
    b"\xff\x01\x11\x01\x12\x00\x17\x11\x18\x75\x32\x36\x19\x01\x1a\x97\x03\x0f\x37\x40\x4f\xbb\x50\x9c"
    b"\x5a\x57\x6d\x80\x3d\x34\x39\x02\x35\x88\x22\x0a\x37\x40\x34\xa0\x06\x02\x0d\xb7\x0e\x01\xff\x00"
    b"\xe0\x04\xc0\xc8\xc1\x96\x86\x3d\x50\x00\x51\x90\x52\x2c\x53\x00\x54\x00\x55\x88\x57\x00\x5a\x90"
    b"\x5b\x2c\x5c\x05\xd3\x02\xe0\x00"
)
SIZE_JPEG = {(160, 120): SIZE_QQVGA_JPEG, (1600, 1200): SIZE_UXGA_JPEG}


def luma_portable(row, buf, o, w):
    """The Y bytes (even bytes) of one YUYV row into buf[o:o + w]."""
    for x in range(w):
        buf[o + x] = row[2 * x]


# its viper twin, compiled where the port has viper (the RP2040's does): a QVGA frame is 76,800 of these steps,
# about 0.6 s as bytecode on a Pico (7.5 µs each, docs/performance.md), more than its decode
LUMA_VIPER = """
import micropython


@micropython.viper
def luma(row, buf, o: int, w: int):
    s = ptr8(row)
    d = ptr8(buf)
    x = 0
    while x < w:
        d[o + x] = s[x << 1]
        x += 1
"""
try:
    exec(LUMA_VIPER)
except (ImportError, SyntaxError, ValueError, AttributeError, NameError):
    luma = luma_portable


class CameraError(OSError):
    """The camera is absent, wired wrong or is not an OV2640: the message says what to check."""


class FifoJpeg:
    """A captured JPEG still in the ArduCAM's FIFO, as a frame source (firmware/protocol.py frame_messages):
    `len()` bytes, read in order by `readinto(buf)` inside the burst the capture opened (CS held low after the
    0x3C command, as ArduCAM's streaming examples read it piece by piece); the burst ends with the last byte.
    The bytes are the FIFO's as they are: where its length counts a few bytes past the JPEG's FFD9 end marker,
    the host's JPEG decoder stops at the marker."""

    def __init__(self, cam, n):
        self.cam = cam
        self.n = n
        self.pos = 0

    def __len__(self):
        return self.n

    def readinto(self, buf):
        if self.cam.burst is not self:
            raise P.SourceError("the FIFO holds a newer capture")
        mv = memoryview(buf)
        m = min(len(mv), self.n - self.pos)
        head = len(SOI) - self.pos      # the SOI marker, read by the capture to check the frame
        k = 0
        while k < head and k < m:
            mv[k] = SOI[self.pos + k]
            k += 1
        if k < m:
            self.cam.spi.readinto(mv[k:m])
        self.pos += m
        if self.pos >= self.n:
            self.cam.end_burst()
        return m


class ArducamCamera:
    def __init__(self, cam, cfg, spi=None, i2c=None, cs=None):
        p = cam["pins"]
        self.wiring = "SPI%d SCK GP%d MOSI GP%d MISO GP%d CS GP%d, I2C%d SDA GP%d SCL GP%d" % (
            p.get("spi", 0), p["sck"], p["mosi"], p["miso"], p["cs"], p.get("i2c", 0), p["sda"], p["scl"])
        if spi is None:
            from machine import I2C, SPI, Pin
            cs = Pin(p["cs"], Pin.OUT, value=1)
            spi = SPI(p.get("spi", 0), cam.get("spi_hz", 4000000), sck=Pin(p["sck"]), mosi=Pin(p["mosi"]), miso=Pin(p["miso"]))
            i2c = I2C(p.get("i2c", 0), sda=Pin(p["sda"]), scl=Pin(p["scl"]), freq=100000)
        self.cs, self.spi, self.i2c = cs, spi, i2c
        self.write(0x00, 0x55)
        if self.read(0x00) != 0x55:
            raise CameraError("ArduCAM does not answer on SPI (test register): check %s" % self.wiring)
        self.check_sensor()
        self.jpeg = cfg["decode"] == "host" and cfg["stream_format"] == "jpeg"
        self.width, self.height = JPEG_SIZES.get(cfg["frame_size"], (320, 240)) if self.jpeg else (320, 240)
        self.burst = None               # the FifoJpeg being read (CS low), if any
        self.error = None               # why the last capture gave no frame (the scan goes on; heartbeats say it)
        self.setup()
        self.buf = None if self.jpeg else bytearray(self.width * self.height)
        self.row = None if self.jpeg else bytearray(self.width * 2)
        self._auto_aec = None

    # --- sensor (I2C) ---
    def sensor_write(self, reg, val):
        self.i2c.writeto(SENSOR, bytes((reg, val)))

    def sensor_read(self, reg):
        self.i2c.writeto(SENSOR, bytes((reg,)))        # SCCB: no repeated start, a write then a read
        return self.i2c.readfrom(SENSOR, 1)[0]

    def sensor_table(self, table):
        for i in range(0, len(table), 2):
            self.sensor_write(table[i], table[i + 1])

    def check_sensor(self):
        """CameraError unless an OV2640 answers at 0x30 with its product id."""
        if SENSOR not in self.i2c.scan():
            raise CameraError("no camera sensor at I2C 0x30 (OV2640): check %s and the camera's power" % self.wiring)
        try:
            self.sensor_write(BANK, SENSOR_BANK)
            pid, ver = self.sensor_read(PID), self.sensor_read(VER)
        except OSError:
            raise CameraError("camera sensor at I2C 0x30 does not acknowledge: check %s" % self.wiring)
        if pid != OV2640_PID or ver not in OV2640_VER:
            raise CameraError("camera sensor id %02x%02x is not an OV2640 (26%02x): wrong camera module or board profile"
                              % (pid, ver, OV2640_VER[-1]))

    def setup(self):
        self.sensor_write(BANK, SENSOR_BANK)
        self.sensor_write(COM7, RESET)
        time.sleep(0.1)
        if self.jpeg:
            self.sensor_table(INIT_JPEG)
            self.sensor_write(BANK, SENSOR_BANK)
            self.sensor_write(0x15, 0x00)
            self.sensor_table(SIZE_QVGA_JPEG)
            if (self.width, self.height) in SIZE_JPEG:
                self.sensor_table(SIZE_JPEG[(self.width, self.height)])
        else:
            self.sensor_table(INIT_GRAY)
            self.sensor_write(BANK, DSP)
            self.sensor_write(IMAGE_MODE, YUYV)

    def set_exposure(self, percent):
        """100: the sensor's automatic exposure and gain; else that percent of the automatic exposure, gain 1x."""
        self.sensor_write(BANK, SENSOR_BANK)
        if percent == 100:
            self.sensor_write(COM8, AUTO)
            self._auto_aec = None
            return
        if self._auto_aec is None:
            self._auto_aec = ((self.sensor_read(AEC_HI) & 0x3F) << 10 | self.sensor_read(AEC_MID) << 2
                              | self.sensor_read(AEC_LO) & 0x03) or 0x100
        aec = min(0xFFFF, max(1, self._auto_aec * percent // 100))
        self.sensor_write(COM8, MANUAL)
        self.sensor_write(GAIN, 0)
        self.sensor_write(AEC_HI, aec >> 10)
        self.sensor_write(AEC_MID, (aec >> 2) & 0xFF)
        self.sensor_write(AEC_LO, (self.sensor_read(AEC_LO) & 0xFC) | (aec & 0x03))

    # --- ArduCAM FIFO (SPI) ---
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

    def end_burst(self):
        """End the FIFO burst read of the last JPEG (streamed to its end, skipped or abandoned)."""
        if self.burst is not None:
            self.burst = None
            self.cs(1)

    def failed(self, why):
        self.error = why
        return None

    def capture(self):
        """A frame, or None with `error` saying why (never completed, bad length, not a JPEG): skipped."""
        self.end_burst()
        self.write(FIFO, RESET_PTRS)
        self.write(FIFO, CLEAR_DONE)
        self.write(FIFO, START)
        t = ticks_ms()
        while not self.read(STATUS) & DONE:
            if ticks_diff(ticks_ms(), t) > CAPTURE_MS:
                return self.failed("capture not done after %d ms: check the camera's power and %s"
                                   % (CAPTURE_MS, self.wiring))
        n = (self.read(0x42) | self.read(0x43) << 8 | self.read(0x44) << 16) & 0x7FFFFF
        if self.jpeg:
            return self.capture_jpeg(n, t)
        w, row, buf = self.width, self.row, self.buf
        if n < len(buf) * 2:
            return self.failed("FIFO holds %d bytes, a %dx%d YUV frame needs %d" % (n, w, self.height, len(buf) * 2))
        self.cs(0)
        self.spi.write(bytes((BURST,)))
        for y in range(self.height):
            self.spi.readinto(row)
            luma(row, buf, y * w, w)
        self.cs(1)
        self.error = None
        return 0, w, self.height, buf, t

    def capture_jpeg(self, n, t):
        limit = self.width * self.height * JPEG_BYTES_PER_PIXEL
        if not len(SOI) < n <= limit:
            return self.failed("FIFO length %d is no %dx%d JPEG (3 to %d bytes)" % (n, self.width, self.height, limit))
        head = bytearray(len(SOI))
        self.cs(0)
        self.spi.write(bytes((BURST,)))
        self.spi.readinto(head)
        if head != SOI:
            self.cs(1)
            return self.failed("FIFO data starts %02x%02x, not a JPEG (ffd8)" % (head[0], head[1]))
        self.burst = FifoJpeg(self, n)
        self.error = None
        return 1, self.width, self.height, self.burst, t

    def set_light(self, on):
        pass

    def close(self):
        self.end_burst()
        self.spi.deinit()
