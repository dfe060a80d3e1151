"""Deterministic synthetic camera frames: a printed code seen by a cheap camera, and empty scenes.

Used by `electeur bench decode` and by tests; the same seed always gives the same frame.
"""

from __future__ import annotations

import io

import numpy as np
import segno
from PIL import Image, ImageDraw, ImageFilter

RESOLUTIONS: dict[str, tuple[int, int]] = {"QVGA": (320, 240), "VGA": (640, 480), "HD": (1280, 720), "UXGA": (1600, 1200)}
PRESCRIPTION = "ORD-NUM:2026-11-23:7F3K9Q2M8X4T1B6H"  # stand-in payload of an e-prescription QR


def _camera(img: Image.Image, rng: np.random.Generator, blur: float, noise: float, quality: int) -> np.ndarray:
    """Blur, sensor noise and JPEG compression, as a streaming camera delivers a frame."""
    img = img.filter(ImageFilter.GaussianBlur(blur))
    arr = np.asarray(img, dtype=np.float32) + rng.normal(0.0, noise, (img.height, img.width))
    out = io.BytesIO()
    Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).save(out, "JPEG", quality=quality)
    return np.asarray(Image.open(out).convert("L"))


def _background(size: tuple[int, int], rng: np.random.Generator) -> Image.Image:
    """A counter scene: an uneven light gradient and a few soft shapes (hand, phone, papers)."""
    w, h = size
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    gx, gy = rng.uniform(-60, 60, 2)
    base = 140 + gx * x / w + gy * y / h
    img = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(img)
    for _ in range(6):
        x0, y0 = rng.uniform(0, w), rng.uniform(0, h)
        rx, ry = rng.uniform(0.05, 0.3) * w, rng.uniform(0.05, 0.3) * h
        draw.ellipse((x0 - rx, y0 - ry, x0 + rx, y0 + ry), fill=int(rng.uniform(40, 220)))
    return img.filter(ImageFilter.GaussianBlur(max(w, h) / 80))


def empty_scene(size: tuple[int, int], seed: int = 0) -> np.ndarray:
    """A frame with no code in view: the common case in a live stream."""
    rng = np.random.default_rng(seed)
    return _camera(_background(size, rng), rng, blur=0.8, noise=4.0, quality=80)


def printed_code(size: tuple[int, int], seed: int = 0, text: str = PRESCRIPTION, contrast: float = 1.0) -> np.ndarray:
    """A printed QR code held in front of the camera: tilted in perspective, slightly blurred, noisy, JPEG.

    `contrast` < 1 fades the print (poor toner) towards the paper's grey.
    """
    rng = np.random.default_rng(seed)
    w, h = size
    qr = segno.make(text, error="m", micro=False)
    side = int(min(w, h) * rng.uniform(0.45, 0.6))
    out = io.BytesIO()
    qr.save(out, kind="png", scale=max(1, side // (qr.symbol_size()[0])), border=4)
    code = Image.open(out).convert("L").resize((side, side), Image.Resampling.NEAREST)
    ink = np.asarray(code, dtype=np.float32)
    paper = 225.0
    code = Image.fromarray(np.clip(paper - (255.0 - ink) / 255.0 * (paper - 30.0) * contrast, 0, 255).astype(np.uint8))
    scene = _background(size, rng)
    # Perspective: the square's corners moved by up to 12% of its side, as when the sheet is tilted.
    jitter = rng.uniform(-0.12, 0.12, 8) * side
    corners = [(0, 0), (side, 0), (side, side), (0, side)]
    x0, y0 = rng.uniform(0.1, 0.9) * (w - side), rng.uniform(0.1, 0.9) * (h - side)
    dst = [(x0 + cx + jitter[2 * i], y0 + cy + jitter[2 * i + 1]) for i, (cx, cy) in enumerate(corners)]
    coeffs = _perspective_coeffs(dst, corners)
    warped = code.transform(size, Image.Transform.PERSPECTIVE, coeffs, Image.Resampling.BILINEAR, fillcolor=0)
    mask = Image.new("L", (side, side), 255).transform(size, Image.Transform.PERSPECTIVE, coeffs, fillcolor=0)
    scene.paste(warped, (0, 0), mask)
    return _camera(scene, rng, blur=rng.uniform(0.5, 1.2) * max(1.0, w / 640), noise=5.0, quality=75)


def _perspective_coeffs(dst: list[tuple[float, float]], src: list[tuple[int, int]]) -> list[float]:
    """PIL's 8 coefficients mapping output points `dst` back to input points `src`."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(dst, src):
        rows += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
        rhs += [u, v]
    return np.linalg.solve(np.array(rows, dtype=np.float64), np.array(rhs, dtype=np.float64)).tolist()
