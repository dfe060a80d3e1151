# Presentation mode: a cheap change detector on a downsampled frame decides whether a frame is worth
# decoding or sending, and a presence test (edges on a few rows) whether a changed frame can hold a code
# before the decoder runs; when something is in view and nothing reads, frames step through light profiles
# (LED and exposure: the LED lights paper but glares on a phone screen).
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


ROWS = 12                               # rows the presence test samples
STEP = 2                                # pixels between the samples of a row
CONTRAST = 24                           # gray-level step that counts as an edge


def edges(frame):
    """The most alternating strong edges on one of ROWS evenly spaced rows, sampling every STEP pixels (1,920
    reads at QVGA, 2.5 % of the frame). A row across a 2D code crosses its modules: every QR and Data Matrix
    image of the test corpus gives 10 or more, at its own size and fitted into QVGA; an empty counter 0-2.
    A JPEG frame (not decoded on the board), or one too small to sample (no camera gives those), gives 255:
    never judged empty."""
    kind, w, h, buf = frame[:4]
    if kind != 0 or w < 16 * STEP or h < ROWS:
        return 255
    best = 0
    for r in range(ROWS):
        o = ((2 * r + 1) * h // (2 * ROWS)) * w
        n = 0
        sign = 0
        prev = buf[o]
        for x in range(o + STEP, o + w, STEP):
            v = buf[x]
            d = v - prev
            prev = v
            if d > CONTRAST:
                if sign <= 0:
                    n += 1
                    sign = 1
            elif d < -CONTRAST and sign >= 0:
                n += 1
                sign = -1
        if n > best:
            best = n
    return best


class ChangeDetector:
    """changed(frame) is True when the mean absolute difference to the last kept thumbnail exceeds
    `threshold` (0-255), or every `max_idle` frames so a code held perfectly still is still retried.
    A threshold of 0 turns the detector off (every frame is worth a look)."""

    def __init__(self, threshold=8, max_idle=10):
        self.threshold = threshold
        self.max_idle = max_idle
        self._ref = None
        self._idle = 0
        self.moved = True               # the last changed() saw the scene move (not only the idle retry)

    def changed(self, frame):
        self.moved = True
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
        self.moved = diff > self.threshold * len(thumb)
        if self.moved or self._idle >= self.max_idle:
            self._ref = thumb
            self._idle = 0
            return True
        self._idle += 1
        return False


class Light:
    """Steps through light profiles (config `light_profiles`) while something is in view and nothing reads;
    back to the last profile that read once the scene has been still for `linger` frames (a counter's
    lighting is stable).

    `mode` "auto" cycles `profiles`; "on"/"off" hold the LED so, with automatic exposure. Cameras without
    `set_exposure` (optional in the camera interface) only switch the LED."""

    def __init__(self, camera, mode, profiles, linger=30):
        self.camera = camera
        self.profiles = [(p["led"], p["exposure"]) for p in profiles] if mode == "auto" else [(mode == "on", 100)]
        self.linger = linger
        self.index = self.good = 0
        self.still = linger             # frames since the scene last moved: nothing is presented at boot
        self._apply()
        self._switched = False

    def _apply(self):
        led, exposure = self.profiles[self.index]
        self.camera.set_light(led)
        set_exposure = getattr(self.camera, "set_exposure", None)
        if set_exposure:
            set_exposure(exposure)
        self._switched = True           # the next frame changes because the light did, not the scene

    def _go(self, index):
        if index != self.index:
            self.index = index
            self._apply()

    def seen(self, moved):
        """Every frame: whether the change detector saw the scene move. True when this is the first frame
        under a new profile: worth a look even when the detector sees little change (LED off on a screen)."""
        switched = self._switched
        self._switched = False
        if moved and not switched:
            self.still = 0
        elif self.still < self.linger:
            self.still += 1
            if self.still == self.linger:
                self._go(self.good)
        return switched

    def result(self, read):
        """After each decode: a read keeps this profile (and remembers it); misses step to the next one."""
        if read:
            self.good = self.index
        elif self.still < self.linger:  # else nothing presented: an idle retry, keep the light steady
            self._go((self.index + 1) % len(self.profiles))
