"""Image variants the cascade tries on frames that failed: each fixes one way a camera spoils a code."""

from __future__ import annotations

from typing import Callable

import numpy as np
from PIL import Image, ImageFilter


def stretch(gray: np.ndarray) -> np.ndarray:
    """Contrast stretch between the 2nd and 98th percentiles (poor toner, dimmed phone screens)."""
    lo, hi = np.percentile(gray[::4, ::4], (2, 98))
    if hi - lo < 2:
        return gray
    out = (gray.astype(np.float32) - lo) * (255.0 / (hi - lo))
    stretched: np.ndarray = np.clip(out, 0, 255).astype(np.uint8)
    return stretched


def rescale(gray: np.ndarray) -> np.ndarray:
    """Small frames upscaled x2, large ones halved: modules too few pixels wide, or noise too fine."""
    h, w = gray.shape
    factor = 2.0 if max(h, w) <= 800 else 0.5
    size = (max(1, int(w * factor)), max(1, int(h * factor)))
    return np.asarray(Image.fromarray(gray).resize(size, Image.Resampling.BILINEAR))


def halve(gray: np.ndarray) -> np.ndarray:
    """Half size, each pixel the mean of 2x2 (box filter): texture inside modules (a photograph printed in
    the light modules of an artistic code, halftone dots, paper fibre) averages out, the modules stay."""
    h, w = gray.shape
    return np.asarray(Image.fromarray(gray).resize((max(1, w // 2), max(1, h // 2)), Image.Resampling.BOX))


def invert(gray: np.ndarray) -> np.ndarray:
    """Light modules on a dark background (dark-mode phone screens)."""
    return 255 - gray


def sharpen(gray: np.ndarray) -> np.ndarray:
    """Unsharp mask against defocus and motion blur."""
    return np.asarray(Image.fromarray(gray).filter(ImageFilter.UnsharpMask(radius=2, percent=200, threshold=0)))


def binarise(gray: np.ndarray) -> np.ndarray:
    """Global Otsu threshold: uneven but low-contrast prints that the local binariser misses."""
    hist = np.bincount(gray[::2, ::2].ravel(), minlength=256).astype(np.float64)
    levels = np.arange(256)
    w0 = np.cumsum(hist)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * levels)
    mean0 = m0 / np.maximum(w0, 1)
    mean1 = (m0[-1] - m0) / np.maximum(w1, 1)
    threshold = int(np.argmax(w0 * w1 * (mean0 - mean1) ** 2))
    return np.where(gray > threshold, 255, 0).astype(np.uint8)


def looks_like_code(gray: np.ndarray, min_fraction: float = 0.005) -> bool:
    """Cheap evidence of a 2D code: sharp horizontal transitions on a ~120-row subsample of the frame.

    Smooth scenes with sensor noise score 0; a code filling a tenth of the frame scores ~5%.
    """
    step = max(1, min(gray.shape) // 120)
    sample = gray[::step, ::step].astype(np.int16)
    if sample.shape[1] < 2:
        return False
    edges = np.abs(np.diff(sample, axis=1)) > 48
    return bool(np.count_nonzero(edges) > min_fraction * edges.size)


VARIANTS: tuple[Callable[[np.ndarray], np.ndarray], ...] = (stretch, rescale, invert, sharpen, binarise)
