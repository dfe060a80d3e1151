"""Prescriptions as they reach the counter when the QR will not read: torn, smeared, stained, crumpled.

Each damage is drawn on the flat document inside the code's box, so the number printed under the code
stays legible; `hide_printed_code` spoils that line too (the scenes where the pharmacist must type it).
"""

from __future__ import annotations

import random

import numpy as np
from PIL import Image, ImageDraw

Box = tuple[int, int, int, int]
DAMAGES = ("torn_corner", "ink_smear", "coffee_stain", "crumpled")


def torn_corner(doc: np.ndarray, box: Box, rng: random.Random, backdrop: int) -> np.ndarray:
    """A corner of the sheet torn off through the code: the counter shows through, two finders gone."""
    x0, y0, x1, y1 = box
    s = x1 - x0
    img = Image.fromarray(doc)
    a, b = rng.uniform(0.75, 0.95) * s, rng.uniform(0.75, 0.95) * s
    jag = [(x0 - 4 + a * t + rng.uniform(-3, 3), y0 - 4 + b * (1 - t) + rng.uniform(-3, 3)) for t in np.linspace(0, 1, 9)]
    ImageDraw.Draw(img).polygon([(x0 - 8, y0 - 8), *jag], fill=backdrop)
    return np.asarray(img)


def ink_smear(doc: np.ndarray, box: Box, rng: random.Random, backdrop: int) -> np.ndarray:
    """A wet-ink smear dragged across the code: a broad dark band with ragged edges."""
    x0, y0, x1, y1 = box
    s = x1 - x0
    img = Image.fromarray(doc)
    draw = ImageDraw.Draw(img)
    ink = rng.randint(20, 70)
    ya, yb = y0 + rng.uniform(0.1, 0.4) * s, y0 + rng.uniform(0.6, 0.9) * s
    width = int(rng.uniform(0.35, 0.5) * s)
    draw.line([(x0, ya), (x1, yb)], fill=ink, width=width)
    for _ in range(12):
        t = rng.random()
        cx, cy = x0 + t * s, ya + t * (yb - ya) + rng.uniform(-0.35, 0.35) * width
        r = rng.uniform(0.03, 0.08) * s
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=ink)
    return np.asarray(img)


def coffee_stain(doc: np.ndarray, box: Box, rng: random.Random, backdrop: int) -> np.ndarray:
    """A coffee ring and its brown wash: dark modules and light ones lose their contrast under it."""
    x0, y0, x1, y1 = box
    s = x1 - x0
    h, w = doc.shape
    cy, cx = y0 + rng.uniform(0.35, 0.65) * s, x0 + rng.uniform(0.35, 0.65) * s
    r = rng.uniform(0.45, 0.6) * s
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    dist = np.hypot(yy - cy, xx - cx) / r
    out = doc.astype(np.float32)
    inside = (dist < 1.0) & (yy < y1)                 # the stain stops at the code's bottom edge
    wash = rng.uniform(95, 125)
    out[inside] = wash + (out[inside] - wash) * 0.12  # contrast crushed towards the stain's brown
    ring = (np.abs(dist - 1.0) < 0.06) & (yy < y1)
    out[ring] = np.minimum(out[ring], wash - 45)
    return out.clip(0, 255).astype(np.uint8)


def crumpled(doc: np.ndarray, box: Box, rng: random.Random, backdrop: int) -> np.ndarray:
    """A sheet crumpled in a pocket: the code's patch folded many ways, creases cut through its modules."""
    x0, y0, x1, y1 = box
    s = x1 - x0
    patch = doc[y0:y1, x0:x1].astype(np.float32)
    yy, xx = np.mgrid[0:s, 0:s].astype(np.float32)
    dy = np.zeros_like(yy)
    dx = np.zeros_like(xx)
    for _ in range(6):
        fy, fx, ph = rng.uniform(2, 5) / s, rng.uniform(2, 5) / s, rng.uniform(0, 6.3)
        amp = rng.uniform(0.02, 0.05) * s
        dy += amp * np.sin(2 * np.pi * (fx * xx + fy * yy) + ph)
        dx += amp * np.cos(2 * np.pi * (fy * xx - fx * yy) + ph)
    sy = np.clip(yy + dy, 0, s - 1).astype(np.int32)
    sx = np.clip(xx + dx, 0, s - 1).astype(np.int32)
    warped = patch[sy, sx]
    for _ in range(rng.randint(4, 7)):               # creases: a shaded line each
        a, c = rng.uniform(0, np.pi), rng.uniform(0.2, 0.8) * s
        d = np.abs((xx - s / 2) * np.cos(a) + (yy - s / 2) * np.sin(a) - (c - s / 2))
        warped = warped * (1 - 0.55 * np.exp(-(d / (0.012 * s + 1)) ** 2))
    out = doc.copy()
    out[y0:y1, x0:x1] = warped.clip(0, 255).astype(np.uint8)
    return out


def hide_printed_code(doc: np.ndarray, box: Box, rng: random.Random) -> np.ndarray:
    """The line printed under the code smudged out as well: only typing from the ePU's own copy is left."""
    x0, y0, x1, y1 = box
    s = x1 - x0
    img = Image.fromarray(doc)
    draw = ImageDraw.Draw(img)
    top = y1 + 2
    for _ in range(5):
        x = x0 + rng.uniform(-0.05, 0.9) * s
        draw.ellipse((x, top + rng.uniform(-4, 4), x + rng.uniform(0.25, 0.45) * s, top + rng.uniform(0.12, 0.2) * s),
                     fill=rng.randint(25, 60))
    return np.asarray(img)


def damage(doc: np.ndarray, box: Box, rng: random.Random, kind: str, printed_legible: bool) -> np.ndarray:
    """`doc` with its code spoilt by `kind` (one of DAMAGES), and its printed line too unless `printed_legible`."""
    backdrop = rng.randint(30, 110)
    out = {"torn_corner": torn_corner, "ink_smear": ink_smear, "coffee_stain": coffee_stain,
           "crumpled": crumpled}[kind](doc, box, rng, backdrop)
    return out if printed_legible else hide_printed_code(out, box, rng)
