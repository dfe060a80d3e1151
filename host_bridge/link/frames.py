"""Streamed frames to gray images for the host engines: gray8 as is, JPEG through Pillow."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, UnidentifiedImageError

from host_bridge.decode.image import ImageError, gray_from_raw
from host_bridge.link.reader_link import Frame


def frame_gray(frame: Frame) -> np.ndarray:
    """The frame as an HxW uint8 array; ImageError when its bytes are not what its header says."""
    if frame.kind == "gray8":
        return gray_from_raw(frame.data, frame.width, frame.height)
    try:
        with Image.open(io.BytesIO(frame.data), formats=["JPEG"]) as im:
            return np.asarray(im.convert("L"), dtype=np.uint8)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ImageError(f"corrupt JPEG frame: {exc}") from None
