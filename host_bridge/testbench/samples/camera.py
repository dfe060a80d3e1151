"""Put a flat document in a camera frame: position, rotation, perspective tilt, paper curl,
then the sensor's defects (uneven light, blur, noise, moiré on screens) and JPEG."""

from __future__ import annotations

import io
import math
import random

import numpy as np
from PIL import Image, ImageFilter

RESOLUTIONS = [(320, 240), (640, 480), (1280, 720), (1600, 1200)]


def _perspective_coeffs(dst: list[tuple[float, float]], src: list[tuple[float, float]]) -> list[float]:
    """PIL PERSPECTIVE coefficients mapping output points `dst` to input points `src`."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(dst, src):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y]); rhs.append(u)
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y]); rhs.append(v)
    return list(np.linalg.solve(np.array(rows, dtype=np.float64), np.array(rhs, dtype=np.float64)))


def curl(doc: np.ndarray, rng: random.Random, amount: float) -> np.ndarray:
    """Crumpled or curled paper: a mesh of small quads, each corner displaced by up to `amount` px."""
    h, w = doc.shape
    n = 6
    xs, ys = np.linspace(0, w, n + 1), np.linspace(0, h, n + 1)
    jitter = {(i, j): (rng.uniform(-amount, amount), rng.uniform(-amount, amount)) if 0 < i < n and 0 < j < n else (0.0, 0.0)
              for i in range(n + 1) for j in range(n + 1)}
    mesh = []
    for j in range(n):
        for i in range(n):
            box = (int(xs[i]), int(ys[j]), int(xs[i + 1]), int(ys[j + 1]))
            quad = []
            for (a, b) in ((i, j), (i, j + 1), (i + 1, j + 1), (i + 1, j)):
                dx, dy = jitter[(a, b)]
                quad += [xs[a] + dx, ys[b] + dy]
            mesh.append((box, quad))
    return np.asarray(Image.fromarray(doc).transform((w, h), Image.MESH, mesh, resample=Image.BILINEAR))


def _background(size: tuple[int, int], rng: random.Random, nprng: np.random.Generator) -> np.ndarray:
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = rng.uniform(40, 160) + rng.uniform(-40, 40) * xx / w + rng.uniform(-40, 40) * yy / h
    img = Image.fromarray(base.clip(0, 255).astype(np.uint8))
    for _ in range(rng.randint(0, 4)):  # clutter on the counter
        x0, y0 = rng.randrange(w), rng.randrange(h)
        img.paste(rng.randint(20, 230), (x0, y0, x0 + rng.randint(10, w // 3), y0 + rng.randint(10, h // 3)))
    return np.asarray(img, dtype=np.float32)


def shoot(doc: np.ndarray, code_box: tuple[float, float, float, float], rng: random.Random, nprng: np.random.Generator,
          *, module_doc_px: int, module_px: float, tilt: float, screen: bool, resolution: tuple[int, int] | None = None,
          blur: float = 0.0, noise: float = 2.0) -> tuple[np.ndarray, tuple[int, int]]:
    """Photograph `doc` so that a module of the code measures about `module_px` frame pixels."""
    scale = module_px / module_doc_px
    x0, y0, x1, y1 = code_box
    code_size = max(x1 - x0, y1 - y0) * scale * 1.55  # rotated diagonal plus a quiet zone
    options = [r for r in RESOLUTIONS if code_size < 0.9 * min(r)]
    size = resolution if resolution in options else rng.choice(options or RESOLUTIONS[-1:])
    w, h = size
    cx, cy = w / 2 + rng.uniform(-0.15, 0.15) * (w - code_size), h / 2 + rng.uniform(-0.15, 0.15) * (h - code_size)
    angle = math.radians(rng.uniform(-30, 30))
    ca, sa = math.cos(angle), math.sin(angle)
    ccx, ccy = (x0 + x1) / 2, (y0 + y1) / 2
    dh, dw = doc.shape
    src = [(0.0, 0.0), (dw, 0.0), (dw, dh), (0.0, dh)]
    dst = []
    for (u, v) in src:
        px, py = (u - ccx) * scale, (v - ccy) * scale
        rx, ry = ca * px - sa * py, sa * px + ca * py
        # tilt: points farther from the code move proportionally, as a plane seen at an angle
        dst.append((cx + rx * (1 + tilt * rng.uniform(-1, 1)), cy + ry * (1 + tilt * rng.uniform(-1, 1))))
    coeffs = _perspective_coeffs(dst, src)
    frame = _background(size, rng, nprng)
    warped = np.asarray(Image.fromarray(doc).transform(size, Image.PERSPECTIVE, coeffs, resample=Image.BILINEAR), dtype=np.float32)
    mask = np.asarray(Image.new("L", (dw, dh), 255).transform(size, Image.PERSPECTIVE, coeffs, resample=Image.BILINEAR),
                      dtype=np.float32) / 255
    frame = frame * (1 - mask) + warped * mask
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    light = 1 + rng.uniform(-0.25, 0.15) * (xx / w - 0.5) + rng.uniform(-0.25, 0.15) * (yy / h - 0.5)
    frame *= light
    if screen:  # moiré: the camera's pixel grid beating against the screen's
        f1, f2 = rng.uniform(0.15, 0.45), rng.uniform(0.15, 0.45)
        frame *= 1 + rng.uniform(0.04, 0.10) * np.sin(f1 * xx + f2 * yy + rng.uniform(0, 6.3))
    img = Image.fromarray(frame.clip(0, 255).astype(np.uint8))
    if blur > 0:
        img = img.filter(ImageFilter.GaussianBlur(blur))
    out = np.asarray(img, dtype=np.float32) + nprng.normal(0, noise, (h, w)).astype(np.float32)
    return out.clip(0, 255).astype(np.uint8), size


def encode(frame: np.ndarray, rng: random.Random) -> tuple[bytes, str]:
    """JPEG at a camera-like quality most of the time, PNG sometimes; returns (bytes, extension)."""
    buf = io.BytesIO()
    img = Image.fromarray(frame)
    if rng.random() < 0.85:
        img.save(buf, "JPEG", quality=rng.randint(55, 92))
        return buf.getvalue(), "jpg"
    img.save(buf, "PNG", optimize=False, compress_level=1)
    return buf.getvalue(), "png"
