# Simulated camera: frames from binary PGM (P5) files, each shown for `show_ms` (0: one frame each).
# The host converts PNG/JPEG to PGM first (MicroPython has no image decoders). A .jpg frame is delivered as
# its JPEG bytes (kind 1), as an ESP32 or ArduCAM camera delivers them: nothing is decoded on the board.
# Exposure (set_exposure, percent of the automatic exposure) is modelled on the file, taken as the frame at
# automatic exposure whose tone curve compresses highlights and shadows: a shorter exposure spreads the
# highlights (a glaring phone screen's code appears) and crushes the shadows; a longer one the reverse.
from firmware.clock import ticks_diff, ticks_ms


class PgmError(Exception):
    pass


def _token(f):
    tok = b""
    while True:
        c = f.read(1)
        if not c:
            raise PgmError("truncated PGM header")
        if c == b"#":
            while c not in (b"\n", b""):
                c = f.read(1)
            continue
        if c in b" \t\r\n":
            if tok:
                return tok
            continue
        tok += c


def read_pgm(path, buf=None):
    """(width, height, gray bytearray) from a binary 8-bit PGM file; `buf` is reused when the size matches
    (one frame buffer, as a camera driver has: no 77 KB allocation per QVGA frame)."""
    with open(path, "rb") as f:
        if f.read(2) != b"P5":
            raise PgmError("%s: not a binary PGM (P5)" % path)
        try:
            w, h, maxval = int(_token(f)), int(_token(f)), int(_token(f))
        except ValueError:
            raise PgmError("%s: bad PGM header" % path)
        if maxval != 255 or w <= 0 or h <= 0:
            raise PgmError("%s: only 8-bit PGM is supported" % path)
        if buf is None or len(buf) != w * h:
            buf = None
            buf = bytearray(w * h)
        n = f.readinto(buf)
        if n != w * h:
            raise PgmError("%s: truncated pixels (%d of %d bytes)" % (path, n or 0, w * h))
    return w, h, buf


def exposure_table(percent):
    """Gray value at automatic exposure -> gray value at `percent` of it (identity at 100)."""
    if percent < 100:
        return bytes(max(0, 255 - (255 - v) * 100 // percent) for v in range(256))
    return bytes(min(255, v * percent // 100) for v in range(256))


def jpeg_size(data):
    """(width, height) from a JPEG's start-of-frame segment; PgmError when there is none."""
    if data[:2] != b"\xff\xd8":
        raise PgmError("not a JPEG file")
    i = 2
    while i + 9 <= len(data):
        if data[i] != 0xFF:
            raise PgmError("corrupt JPEG segment")
        marker = data[i + 1]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            return data[i + 7] << 8 | data[i + 8], data[i + 5] << 8 | data[i + 6]
        i += 2 + (data[i + 2] << 8 | data[i + 3])
    raise PgmError("JPEG without a frame header")


def read_jpeg(path):
    """(width, height, JPEG bytes) of a .jpg frame."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        w, h = jpeg_size(data)
    except PgmError as exc:
        raise PgmError("%s: %s" % (path, exc))
    return w, h, data


def listed(d):
    """The frames of directory `d`, in the order its frames.txt gives (one file name a line)."""
    with open(d + "/frames.txt") as f:
        return [d + "/" + line.strip() for line in f if line.strip()]


class SimCamera:
    driver = "sim"
    def __init__(self, paths, show_ms=0, loop=False):
        self.paths = list(paths)
        self.show_ms = show_ms
        self.loop = loop
        self.index = -1
        self._shown_at = 0
        self._frame = None
        self.exposure = self._applied = 100
        self.led = True

    def _advance(self, now):
        self.index += 1
        if self.index >= len(self.paths):
            if not self.loop or not self.paths:
                self._frame = None
                return False
            self.index = 0
        old = self._frame[3] if self._frame and self._frame[0] == 0 else None
        self._frame = None
        path = self.paths[self.index]
        if path.endswith(".jpg"):
            self._frame = (1,) + read_jpeg(path)
        else:
            self._frame = (0,) + read_pgm(path, old)
        self._applied = 100
        self._shown_at = now
        return True

    def _expose(self):
        """The frame in view at the set exposure: reloaded from its file, then mapped through a 256-entry table."""
        kind, w, h, buf = self._frame
        if self._applied != 100:
            read_pgm(self.paths[self.index], buf)
        if self.exposure != 100:
            lut = exposure_table(self.exposure)
            for i in range(len(buf)):
                buf[i] = lut[buf[i]]
        self._applied = self.exposure

    def capture(self):
        """The frame in view, or None once the last image has been shown (without loop)."""
        now = ticks_ms()
        if self._frame is None or self.show_ms <= 0 or ticks_diff(now, self._shown_at) >= self.show_ms:
            if self.index >= len(self.paths) and not self.loop:
                return None
            if not self._advance(now):
                return None
        kind, w, h, buf = self._frame
        if kind == 0 and self._applied != self.exposure:    # JPEG bytes are sent as they are
            self._expose()
        return kind, w, h, buf, now

    def set_light(self, on):
        self.led = on

    def set_exposure(self, percent):
        self.exposure = percent

    def close(self):
        self._frame = None
