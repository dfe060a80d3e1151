"""Scenes the counter camera sees: a prescription page, a phone screen, a card, a pack, a label.

Each scene draws a flat "document" around the code (in document pixels, `d` px per module),
with the defects of its medium: poor toner and fold shadows on paper, glare and dimming on
phones. `camera.shoot` then puts the document in a camera frame.
"""

from __future__ import annotations

import random

import numpy as np
from PIL import Image, ImageDraw, ImageFont

DRUGS = ["PARACETAMOL 1 g cp", "AMOXICILLINE 500 mg gel", "IBUPROFENE 400 mg cp", "LEVOTHYROXINE 75 mcg cp",
         "METFORMINE 850 mg cp", "TRAMADOL 50 mg gel", "OMEPRAZOLE 20 mg gel", "ATORVASTATINE 20 mg cp"]
Box = tuple[int, int, int, int]  # where the code sits in the document: x0, y0, x1, y1
_FONTS: dict[int, ImageFont.FreeTypeFont] = {}


def font(size: int) -> ImageFont.FreeTypeFont:
    size = max(8, int(size))
    if size not in _FONTS:
        _FONTS[size] = ImageFont.load_default(size=size)
    return _FONTS[size]


def code_image(mods: np.ndarray, d: int, dark: int = 0, light: int = 255) -> np.ndarray:
    """Modules to pixels: each module a d×d square."""
    img = np.where(mods, dark, light).astype(np.uint8)
    return np.kron(img, np.ones((d, d), dtype=np.uint8)) if d > 1 else img


def _text_lines(draw: ImageDraw.ImageDraw, rng: random.Random, box: tuple[int, int, int, int], size: int, ink: int,
                lines: list[str]) -> None:
    x0, y0, x1, y1 = box
    y = y0
    for line in lines:
        if y + size > y1:
            break
        while line and draw.textlength(line, font=font(size)) > x1 - x0:
            line = line[:-1]  # never let text run into the code's quiet zone
        draw.text((x0, y), line, fill=ink, font=font(size))
        y += int(size * rng.uniform(1.4, 1.9))


def _poor_toner(code: np.ndarray, rng: random.Random, nprng: np.random.Generator, d: int) -> np.ndarray:
    """Faded, speckled print: lighter ink, dropouts smaller than a module, a faint streak."""
    level = rng.random()
    out = code.astype(np.int16)
    dark = out < 128
    out[dark] = rng.randint(0, int(30 + 80 * level))
    specks = nprng.random(out.shape) < 0.02 * level
    out[dark & specks] = 200
    if level > 0.6 and d >= 5:
        x = rng.randrange(out.shape[1])
        out[:, x:x + d // 5] = np.maximum(out[:, x:x + d // 5], 120)
    return out.clip(0, 255).astype(np.uint8)


def prescription_page(mods: np.ndarray, d: int, rng: random.Random, nprng: np.random.Generator,
                      printed_code: str | None, heading: str = "ORDONNANCE") -> tuple[np.ndarray, Box]:
    """Part of an A4 page: prescriber header, drug lines, the code bottom right, its number printed under it."""
    code = _poor_toner(code_image(mods, d), rng, nprng, d) if rng.random() < 0.6 else code_image(mods, d)
    cw = code.shape[1]
    W, H = int(cw * rng.uniform(2.6, 3.4)), int(cw * rng.uniform(2.2, 2.8))
    paper = rng.randint(215, 250)
    page = Image.new("L", (W, H), paper)
    draw = ImageDraw.Draw(page)
    size = max(10, int(d * rng.uniform(2.2, 3.2)))
    ink = rng.randint(10, 70)
    header = [f"Dr {rng.choice(['A. MARTIN', 'C. DURAND', 'S. LEROY'])} - Medecine generale", "RPPS 10001234567  AM 751234567",
              "12 rue de la Republique 75011 PARIS", "", heading, f"Le {rng.randint(1, 28)}/{rng.randint(1, 12)}/2026", ""]
    body = [f"{drug} - {rng.randint(1, 3)} par jour pendant {rng.randint(5, 30)} jours" for drug in rng.sample(DRUGS, 4)]
    x, y = W - cw - int(d * 4), H - code.shape[0] - int(size * 3.5)
    _text_lines(draw, rng, (size, size, x - 6 * d, H), size, ink, header + body)
    page.paste(Image.fromarray(np.minimum(code, paper)), (x, max(0, y)))
    if printed_code:
        draw.text((x, max(0, y) + code.shape[0] + size // 2), printed_code, fill=ink, font=font(size))
    out = np.asarray(page, dtype=np.float32)
    if rng.random() < 0.5:  # a fold: a shadow band across the page
        cols = np.arange(W, dtype=np.float32)
        pos, width = rng.uniform(0.2, 0.8) * W, rng.uniform(0.02, 0.08) * W
        out *= (1 - rng.uniform(0.1, 0.3) * np.exp(-((cols - pos) / width) ** 2))[None, :]
    return out.clip(0, 255).astype(np.uint8), (x, max(0, y), x + cw, max(0, y) + code.shape[0])


def phone_screen(mods: np.ndarray, d: int, rng: random.Random, nprng: np.random.Generator) -> tuple[np.ndarray, Box]:
    """A phone showing the code: dark bezel, backlit screen (dimmed or not), a glare patch."""
    code = code_image(mods, d)
    cw = code.shape[1]
    sw, sh = int(cw * rng.uniform(1.25, 1.45)), int(cw * rng.uniform(2.0, 2.3))
    bezel = int(cw * 0.08)
    W, H = sw + 2 * bezel, sh + 2 * bezel
    img = np.full((H, W), rng.randint(10, 40), dtype=np.float32)
    bright = rng.uniform(0.55, 1.0)  # auto-dimming
    screen = np.full((sh, sw), 250 * bright, dtype=np.float32)
    y = int(sh * rng.uniform(0.3, 0.4))
    x = (sw - cw) // 2
    screen[y:y + cw, x:x + cw] = np.where(code < 128, 25 * bright, 250 * bright)
    if rng.random() < 0.7:  # glare: a soft bright ellipse washing out part of the screen
        yy, xx = np.mgrid[0:sh, 0:sw].astype(np.float32)
        cy, cx = rng.uniform(0, sh), rng.uniform(0, sw)
        r = rng.uniform(0.2, 0.45) * sw
        glare = np.exp(-(((yy - cy) / (r * 1.6)) ** 2 + ((xx - cx) / r) ** 2))
        screen = screen + (255 - screen) * glare * rng.uniform(0.3, 0.6)
    img[bezel:bezel + sh, bezel:bezel + sw] = screen
    return img.clip(0, 255).astype(np.uint8), (bezel + x, bezel + y, bezel + x + cw, bezel + y + cw)


def card(mods: np.ndarray, d: int, rng: random.Random, nprng: np.random.Generator, title: str) -> tuple[np.ndarray, Box]:
    """A printed card (credit-card proportions) with text and the code on the right."""
    code = code_image(mods, d)
    cw = code.shape[1]
    W = int(cw * rng.uniform(2.8, 3.2))
    H = int(W / 1.585)
    base = rng.randint(190, 240)
    img = Image.new("L", (W, H), base)
    draw = ImageDraw.Draw(img)
    size = max(10, int(H / 12))
    ink = rng.randint(20, 80)
    lines = [title, f"Adherent no {rng.randint(10**6, 10**7)}", "Tiers payant : PH7 PH4 PH2 LABO",
             f"Valable du 01/01/2026 au 31/12/{rng.randint(2027, 2028)}"]
    _text_lines(draw, rng, (size, size, W - cw - 2 * size, H), size, ink, lines)
    q = 2 * d
    x, y = W - cw - q - size // 2, (H - cw) // 2
    draw.rectangle((x - q, y - q, x + cw + q, y + cw + q), fill=250)
    img.paste(Image.fromarray(code), (x, y))
    return np.asarray(img), (x, y, x + cw, y + code.shape[0])


def pack(mods: np.ndarray, d: int, rng: random.Random, nprng: np.random.Generator, hri: str) -> tuple[np.ndarray, Box]:
    """A medicine box face: brand, dosage, the Data Matrix and its printed GTIN/lot/expiry/serial."""
    code = code_image(mods, d)
    cw = code.shape[1]
    W, H = int(cw * rng.uniform(3.5, 4.5)), int(cw * rng.uniform(2.0, 2.6))
    img = Image.new("L", (W, H), rng.randint(180, 245))
    draw = ImageDraw.Draw(img)
    size = max(10, int(d * 2.2))
    draw.text((size, size), rng.choice(DRUGS), fill=rng.randint(0, 90), font=font(size * 2))
    x, y = size, H - cw - 2 * size
    draw.rectangle((x - 2 * d, y - 2 * d, x + cw + 2 * d, y + cw + 2 * d), fill=255)
    img.paste(Image.fromarray(code), (x, y))
    parts = hri.replace(")", ") ").split("(")[1:]
    _text_lines(draw, rng, (x + cw + 3 * d, y, W, H), size, 30, ["(" + p for p in parts])
    return np.asarray(img), (x, y, x + cw, y + code.shape[0])


def label(mods: np.ndarray, d: int, rng: random.Random, nprng: np.random.Generator, lines: list[str]) -> tuple[np.ndarray, Box]:
    """A sheet or sticker with the code on the left and a few lines of text (INS, 2D-Doc, posters)."""
    code = code_image(mods, d)
    cw = code.shape[1]
    W, H = int(cw * rng.uniform(2.6, 3.2)), int(cw * rng.uniform(1.5, 1.9))
    paper = rng.randint(215, 250)
    img = Image.new("L", (W, H), paper)
    draw = ImageDraw.Draw(img)
    size = max(10, int(d * 2.4))
    x, y = int(cw * 0.15), (H - cw) // 2
    img.paste(Image.fromarray(np.minimum(code, paper)), (x, y))
    _text_lines(draw, rng, (x + cw + size, y, W, H), size, rng.randint(10, 60), lines)
    return np.asarray(img), (x, y, x + cw, y + code.shape[0])
