"""Streamed camera frames → new code sightings: host decoding for readers that send frames.

A code held still is in dozens of frames; like a commercial imager's "same symbol" timeout,
a payload seen again by the same reader within `repeat_s` of its last sighting is not a new
read (the timer restarts on every sighting, so the code must leave the view to be read again).
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from host_bridge.decode.engines import Engine, get_engine
from host_bridge.decode.image import MAX_PIXELS, ImageError, gray_from_raw
from host_bridge.decode.symbol import Symbol


def frame_gray(kind: str, width: int, height: int, data: bytes) -> np.ndarray:
    """The frame as an HxW uint8 array; ImageError when it is corrupt or not what its header says."""
    if kind == "gray8":
        return gray_from_raw(data, width, height)
    try:
        with Image.open(io.BytesIO(data), formats=["JPEG"]) as im:
            if im.size != (width, height) or width * height > MAX_PIXELS:
                raise ImageError(f"JPEG is {im.size[0]}x{im.size[1]}, header says {width}x{height}")
            return np.asarray(im.convert("L"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"corrupt JPEG frame: {exc}") from None


class Sightings:
    """Per reader, when each payload was last seen; `new(reader, data)` says if this sighting is a new read."""

    def __init__(self, repeat_s: float = 1.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.repeat_s = repeat_s
        self.clock = clock
        self._last: dict[tuple[str, bytes], float] = {}
        self._lock = threading.Lock()

    def new(self, reader: str, data: bytes) -> bool:
        now = self.clock()
        with self._lock:
            if len(self._last) > 4096:  # forget codes long gone
                self._last = {k: t for k, t in self._last.items() if now - t < self.repeat_s}
            last = self._last.get((reader, data))
            self._last[(reader, data)] = now
        return last is None or now - last >= self.repeat_s

    def forget(self, reader: str, data: bytes) -> None:
        """A sighting that could not be recorded: the next frame showing it is a new read."""
        with self._lock:
            self._last.pop((reader, data), None)


class FrameDecoder:
    """Decode a streamed frame and keep only new sightings."""

    def __init__(self, engine: Engine | None = None, sightings: Sightings | None = None) -> None:
        self.engine = engine or get_engine()
        self.sightings = sightings or Sightings()

    def sight(self, reader: str, frame: Any) -> tuple[list[Symbol], int]:
        """The frame's new sightings, and how many codes it held (new or still in view: the reader's light
        and beep follow that count through the frame's ACK)."""
        gray = frame_gray(frame.kind, frame.width, frame.height, frame.data)
        symbols = self.engine.decode(gray)
        return [s for s in symbols if self.sightings.new(reader, s.data)], len(symbols)
