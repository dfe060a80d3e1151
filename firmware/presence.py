# Presentation mode: a cheap change detector on a downsampled frame decides whether a frame is worth
# decoding or sending; when nothing reads, frames alternate illumination (LED glares on phone screens).
GRID = 16                               # samples per row and per column


def thumbnail(frame):
    """GRID x GRID pixels sampled from a gray frame (256 reads: MicroPython has no stepped slices)."""
    kind, w, h, buf = frame[:4]
    out = bytearray(GRID * GRID)
    if kind != 0 or not w or not h:
        return b""
    i = 0
    for r in range(GRID):
        base = ((r * h) // GRID + h // (2 * GRID)) * w + w // (2 * GRID)
        for c in range(GRID):
            out[i] = buf[base + (c * w) // GRID]
            i += 1
    return bytes(out)


class ChangeDetector:
    """changed(frame) is True when the mean absolute difference to the last kept thumbnail exceeds
    `threshold` (0-255), or every `max_idle` frames so a code held perfectly still is still retried.
    A threshold of 0 turns the detector off (every frame is worth a look)."""

    def __init__(self, threshold=8, max_idle=10):
        self.threshold = threshold
        self.max_idle = max_idle
        self._ref = None
        self._idle = 0

    def changed(self, frame):
        if not self.threshold:
            return True
        thumb = thumbnail(frame)
        if not thumb:
            return True
        ref = self._ref
        if ref is None or len(ref) != len(thumb):
            self._ref = thumb
            self._idle = 0
            return True
        diff = 0
        for i in range(len(thumb)):
            d = thumb[i] - ref[i]
            diff += d if d > 0 else -d
        if diff > self.threshold * len(thumb) or self._idle >= self.max_idle:
            self._ref = thumb
            self._idle = 0
            return True
        self._idle += 1
        return False


class Light:
    """When frames stop reading, alternate the LED on and off (paper wants light, phones glare)."""

    def __init__(self, camera, mode="auto", every=3):
        self.camera = camera
        self.mode = mode
        self.every = every
        self.misses = 0
        self.on = mode != "off"
        camera.set_light(self.on)

    def result(self, read):
        if self.mode != "auto":
            return
        self.misses = 0 if read else self.misses + 1
        if self.misses and self.misses % self.every == 0:
            self.on = not self.on
            self.camera.set_light(self.on)
