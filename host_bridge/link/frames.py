"""Streamed frames on the host: to gray images (gray8 as is, JPEG through Pillow), and to reads.

One path for every host that takes frames from a reader (the bridge, `replay --via-reader`, the benches),
so a code held in view is one read everywhere, with the reader's own duplicate rule and clock.
"""

from __future__ import annotations

import io
import logging

import numpy as np
from PIL import Image, UnidentifiedImageError

from firmware import config
from firmware import protocol as P
from firmware.dedupe import Dedupe
from host_bridge.decode.engines import Engine
from host_bridge.decode.image import MAX_PIXELS, ImageError, gray_from_raw
from host_bridge.link.reader_link import Frame, OnRead

log = logging.getLogger("electeur.frames")
DEDUPE_MS = config.defaults()["dedupe_ms"]      # the reader's own default for on-board reads


def frame_gray(frame: Frame) -> np.ndarray:
    """The frame as an HxW uint8 array; ImageError when its bytes are not what its header says."""
    if frame.kind == "gray8":
        return gray_from_raw(frame.data, frame.width, frame.height)
    try:
        with Image.open(io.BytesIO(frame.data), formats=["JPEG"]) as im:
            if (frame.width, frame.height) not in ((0, 0), im.size):    # 0x0: the reader did not know
                raise ImageError(f"JPEG is {im.size[0]}x{im.size[1]}, header says {frame.width}x{frame.height}")
            if im.size[0] * im.size[1] > MAX_PIXELS:
                raise ImageError(f"JPEG of {im.size[0]}x{im.size[1]} pixels is larger than a camera frame")
            return np.asarray(im.convert("L"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"corrupt JPEG frame: {exc}") from None


class FrameReads:
    """An `on_frame` callback for ReaderLink: decodes streamed frames on the host and hands each new code to
    the same `on_read(reader_id, seq, payload, meta)` as on-board reads, so the bridge has one path.

    A reader facing the patient streams the same code for seconds: as on the reader, a payload is delivered
    again only after it has been out of view `dedupe_ms` (per reader, on the reader's capture clock, so a
    frame delayed on the link does not count as time out of view). `seq` is the frame id; `meta` has
    `format` (the engine's name, e.g. "QRCode"), `engine`, `captured_ms`, `source: "frame"` and `index` (the
    code's place in the frame). If `on_read` raises (e.g. NotNow: the journal is full), that code and the rest
    of the frame's new codes are forgotten, so a later frame still showing them reads them, and the error goes up: no ACK.
    Frames that cannot be decoded as images are logged and counted in `bad_frames`. The return value is
    what the frame's ACK tells the reader (`frame_ack`), so it beeps once per presentation and steps its
    light on misses.
    """

    def __init__(self, engine: Engine, on_read: OnRead, dedupe_ms: int = DEDUPE_MS) -> None:
        self.engine = engine
        self.on_read = on_read
        self.dedupe_ms = dedupe_ms
        self._dedupe: dict[int, Dedupe] = {}
        self.bad_frames = 0

    def __call__(self, reader: int, frame: Frame) -> int | None:
        try:
            gray = frame_gray(frame)
        except ImageError as exc:
            self.bad_frames += 1
            log.warning("reader %d: frame %d dropped: %s", reader, frame.frame_id, exc)
            return None                 # not looked at: the reader learns nothing from it
        dedupe = self._dedupe.setdefault(reader, Dedupe(self.dedupe_ms))
        symbols = self.engine.decode(gray)
        fresh = [sym for sym in symbols if dedupe.fresh(sym.data, frame.captured_ms)]
        for i, sym in enumerate(fresh):
            try:
                self.on_read(reader, frame.frame_id, sym.data, {"format": sym.format, "engine": sym.engine,
                                                               "captured_ms": frame.captured_ms, "source": "frame",
                                                               "index": i})
            except Exception:           # not recorded (NotNow: journal full): read again from a later frame
                for later in fresh[i:]:
                    dedupe.forget(later.data)
                raise
        return frame_ack(len(symbols), len(fresh))


def frame_ack(decoded: int, new: int) -> int:
    """The ACK body for a frame in which `decoded` codes read, `new` of them delivered as new reads."""
    if new:
        return P.FRAME_NEW
    return P.FRAME_SEEN if decoded else P.FRAME_NOTHING
