"""Streamed frames on the host: to gray images (gray8 as is, JPEG through Pillow), and to reads."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, UnidentifiedImageError

from firmware import protocol as P
from firmware.dedupe import Dedupe
from host_bridge.decode.engines import Engine
from host_bridge.decode.image import ImageError, gray_from_raw
from host_bridge.link.reader_link import Frame, OnRead


def frame_gray(frame: Frame) -> np.ndarray:
    """The frame as an HxW uint8 array; ImageError when its bytes are not what its header says."""
    if frame.kind == "gray8":
        return gray_from_raw(frame.data, frame.width, frame.height)
    try:
        with Image.open(io.BytesIO(frame.data), formats=["JPEG"]) as im:
            return np.asarray(im.convert("L"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"corrupt JPEG frame: {exc}") from None


class FrameReads:
    """An `on_frame` callback for ReaderLink: decodes streamed frames on the host and hands each new code to
    the same `on_read(reader_id, seq, payload, meta)` as on-board reads, so the bridge has one path.

    A reader facing the patient streams the same code for seconds: as on the reader, a payload is delivered
    again only after it has been out of view `dedupe_ms` (per reader). `seq` is the frame id; `meta` has
    `format` (the engine's name, e.g. "QRCode"), `engine`, `captured_ms` and `source: "frame"`.
    Frames that cannot be decoded as images are counted in `bad_frames`. The return value is what the frame's
    ACK tells the reader (`frame_ack`), so it beeps once per presentation and steps its light on misses.
    """

    def __init__(self, engine: Engine, on_read: OnRead, dedupe_ms: int = 3000) -> None:
        self.engine = engine
        self.on_read = on_read
        self.dedupe_ms = dedupe_ms
        self._dedupe: dict[int, Dedupe] = {}
        self.bad_frames = 0

    def __call__(self, reader: int, frame: Frame) -> int | None:
        try:
            gray = frame_gray(frame)
        except ImageError:
            self.bad_frames += 1
            return None                 # not looked at: the reader learns nothing from it
        dedupe = self._dedupe.setdefault(reader, Dedupe(self.dedupe_ms))
        symbols = self.engine.decode(gray)
        new = 0
        for sym in symbols:
            if dedupe.fresh(sym.data, frame.captured_ms):
                self.on_read(reader, frame.frame_id, sym.data, {"format": sym.format, "engine": sym.engine,
                                                               "captured_ms": frame.captured_ms, "source": "frame"})
                new += 1
        return frame_ack(len(symbols), new)


def frame_ack(decoded: int, new: int) -> int:
    """The ACK body for a frame in which `decoded` codes read, `new` of them delivered as new reads."""
    if new:
        return P.FRAME_NEW
    return P.FRAME_SEEN if decoded else P.FRAME_NOTHING
