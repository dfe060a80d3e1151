"""Loading camera frames and image files as 8-bit grayscale, refusing bad input with a clear reason."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

FORMATS = ("PNG", "JPEG", "WEBP", "PPM")  # PPM covers PGM/PBM
SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".pgm", ".ppm")
MAX_PIXELS = 40_000_000  # ~ 8000x5000: larger than any camera frame; bounds memory before pixels are decoded


class ImageError(Exception):
    """An image that cannot be decoded into pixels; the message says why."""


def _check_size(width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise ImageError(f"empty image ({width}x{height} pixels)")
    if width * height > MAX_PIXELS:
        raise ImageError(f"image too large ({width}x{height} pixels, limit {MAX_PIXELS:,}): refused before decoding")


def load_gray(path: str | os.PathLike) -> np.ndarray:
    """Decode PNG/JPEG/WebP/PGM into an HxW uint8 array; the header size is checked before pixels are read."""
    p = Path(path)
    try:
        if p.stat().st_size == 0:
            raise ImageError("empty file (0 bytes)")
        with Image.open(p, formats=FORMATS) as im:
            _check_size(*im.size)
            im.load()
            gray = im if im.mode == "L" else im.convert("L")
            return np.asarray(gray, dtype=np.uint8)
    except ImageError:
        raise
    except FileNotFoundError:
        raise ImageError("no such file") from None
    except IsADirectoryError:
        raise ImageError("is a directory") from None
    except PermissionError:
        raise ImageError("permission denied") from None
    except UnidentifiedImageError:
        raise ImageError("not a supported image (PNG, JPEG, WebP, PGM)") from None
    except Image.DecompressionBombError:
        # Pillow refuses before our own header check can: say it in our words, with our limit.
        raise ImageError(f"image too large (over {2 * (Image.MAX_IMAGE_PIXELS or 0):,} pixels, limit {MAX_PIXELS:,}): "
                         "refused before decoding") from None
    except (OSError, SyntaxError, ValueError) as exc:
        msg = str(exc) or type(exc).__name__
        if "truncated" in msg or "broken" in msg.lower():
            raise ImageError(f"truncated or corrupt image: {msg}") from None
        raise ImageError(f"corrupt image: {msg}") from None


def gray_from_raw(buf: bytes, width: int, height: int) -> np.ndarray:
    """Wrap a raw 8-bit grayscale frame (width*height bytes, row-major) as the reader sends it."""
    _check_size(width, height)
    if len(buf) != width * height:
        raise ImageError(f"raw frame is {len(buf)} bytes, expected {width}x{height} = {width * height}")
    return np.frombuffer(bytes(buf), dtype=np.uint8).reshape(height, width)
