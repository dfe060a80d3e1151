"""Read the e-prescription number printed under its QR code when the QR itself does not decode.

The pharmacy FAQ's first question is what to do when the QR will not read: type the 16 characters printed
under it. The camera already sees them, so on a miss (and only on a miss with code-like texture: an empty
frame never pays) the text near the code is read by OCR (RapidOCR: PP-OCR models run by ONNX Runtime,
shipped inside its wheel, on Windows, macOS and Linux alike).

A wrong prescription number is worse than none. OCR hesitates between look-alike characters (0/O/Q, 1/I,
8/B, 5/S, 2/Z...): the recogniser's probabilities are kept per position, every character at least
ALT_PROB likely there is a candidate, and the ISO 7064 check character decides: a number is given only when
exactly one reading passes, over all the code-shaped lines of the frame; otherwise the code is "illisible"
and the pharmacist types it. The check character catches every single substitution, so one confident
misreading is refused too; two that still pass it are about 1 in 36 of double misreadings. (Trying every
look-alike of every character, rather than those the recogniser hesitated on, left 2 of 12 damaged samples
ambiguous that the probabilities resolved: docs/performance.md.)
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from PIL import Image

from host_bridge.decode import preprocess
from host_bridge.decode.symbol import Symbol
from host_bridge.payloads.manual import PRINTED_CODE_ENGINE as ENGINE
from host_bridge.payloads.validators import prescription_number

log = logging.getLogger("electeur.decode.printed_code")
FORMAT = "PrintedCode"
LENGTH = 16
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
MAX_CANDIDATES = 4096          # more readings than that is a line too uncertain to trust
ALT_PROB = 0.05                # a character this likely at a position is one of its readings
DETECT_SIDE = 2000             # text detection on frames no larger (a 2 Mpx camera's whole frame)


class Inner(Protocol):
    name: str

    def decode(self, gray: np.ndarray) -> list[Symbol]: ...


@dataclass(frozen=True)
class PrintedRead:
    """What OCR made of a frame: `number` when exactly one reading passes the check character.

    `seen` counts the text lines shaped like a printed code; `passing` the distinct numbers that passed."""

    number: str | None
    seen: int
    passing: int
    ms: float

    @property
    def status(self) -> str:
        if self.number:
            return "read"
        return "illegible" if self.seen else "not_found"

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "lines": self.seen, "passing": self.passing, "ms": round(self.ms, 1)}


def code_shaped(line: list[str]) -> list[str] | None:
    """The 16 positions of a recognised line shaped like the printed code, each a string of the characters
    of the code's alphabet OCR found likely there (best first); spaces dropped; None for any other line."""
    positions = []
    for options in line:
        if options[0] == " ":
            continue
        kept = "".join(ch for ch in options.upper() if ch in ALPHABET)
        if not kept:
            return None
        positions.append(kept)
    return positions if len(positions) == LENGTH else None


def candidates(positions: list[str]) -> list[str] | None:
    """Every reading of a code-shaped line (one of the likely characters at each position); None when that
    is too many to try (a line too uncertain to trust)."""
    if np.prod([len(c) for c in positions], dtype=np.float64) > MAX_CANDIDATES:
        return None
    return ["".join(p) for p in itertools.product(*positions)]


def resolve(lines: list[list[str]]) -> tuple[str | None, int, int]:
    """(number, lines shaped like a code, distinct passing numbers): a number only when exactly one passes.

    Each line is a list of positions, each position the characters OCR found likely there, best first."""
    passing: set[str] = set()
    seen = 0
    for line in lines:
        positions = code_shaped(line)
        if positions is None:
            continue
        seen += 1
        readings = candidates(positions)
        if readings is None:
            passing.add("?" * LENGTH)        # too uncertain: counts as a second, unknown candidate
            continue
        passing.update(r for r in readings if prescription_number(r) is None)
    number = next(iter(passing)) if len(passing) == 1 else None
    return number, seen, len(passing)


class OcrUnavailable(RuntimeError):
    """The OCR engine is not installed: printed codes cannot be read (the QR path is unaffected)."""


class TextReader:
    """RapidOCR's detector, orientation classifier and recogniser, loaded on first use (about a second).

    Its recogniser's own decoding keeps one character per position; this one keeps, per position, every
    character whose probability is at least ALT_PROB, so the check character can choose among them."""

    def __init__(self) -> None:
        self._ocr: Any = None

    def _engine(self) -> Any:
        if self._ocr is None:
            try:
                from rapidocr_onnxruntime import RapidOCR
            except ImportError as exc:
                raise OcrUnavailable(f"OCR of the printed code unavailable ({exc}); install the "
                                     "'rapidocr-onnxruntime' package (make setup does)") from None
            self._ocr = RapidOCR(print_verbose=False)
        return self._ocr

    def lines(self, gray: np.ndarray) -> list[list[str]]:
        """The frame's text lines shaped like a printed code's box, each as positions of likely characters."""
        ocr = self._engine()
        scale = min(1.0, DETECT_SIDE / max(gray.shape))
        small = gray if scale == 1.0 else np.asarray(Image.fromarray(gray).resize(
            (int(gray.shape[1] * scale), int(gray.shape[0] * scale)), Image.Resampling.BILINEAR))
        boxes, _ = ocr.text_det(np.repeat(small[:, :, None], 3, axis=2))
        if boxes is None or len(boxes) == 0:
            return []
        boxes = [b / scale for b in boxes if line_shaped(b)]
        if not boxes:
            return []
        crops = ocr.get_crop_img_list(np.repeat(gray[:, :, None], 3, axis=2), [b.astype(np.float32) for b in boxes])
        crops, _, _ = ocr.text_cls(crops)
        return [self._recognise(ocr, crop) for crop in crops]

    @staticmethod
    def _recognise(ocr: Any, crop: np.ndarray) -> list[str]:
        rec = ocr.text_rec
        _, height, width = rec.rec_image_shape
        norm = rec.resize_norm_img(crop, max(width / height, crop.shape[1] / crop.shape[0]))
        probs = rec.session(norm[None].astype(np.float32))[0][0]          # time steps x characters (0: blank)
        charset = rec.postprocess_op.character
        best = probs.argmax(axis=1)
        out: list[str] = []
        previous = 0
        for t, index in enumerate(best):
            if index != 0 and index != previous:
                order = np.argsort(probs[t])[::-1]
                out.append("".join(charset[i] for i in order[:4] if i != 0 and probs[t, i] >= ALT_PROB))
            previous = index
        return [o for o in out if o]


def line_shaped(box: np.ndarray) -> bool:
    """A detected box long and thin as a line of 16 characters in 4 groups (about 11 heights long)."""
    width = max(np.linalg.norm(box[0] - box[1]), np.linalg.norm(box[2] - box[3]))
    height = max(np.linalg.norm(box[0] - box[3]), np.linalg.norm(box[1] - box[2]))
    return height > 0 and 5.0 <= max(width, height) / max(1.0, min(width, height)) <= 25.0


def read_printed_code(gray: np.ndarray, reader: TextReader) -> PrintedRead:
    """OCR the frame's code-shaped text lines and resolve the number printed (see the module doc)."""
    started = time.perf_counter()
    number, seen, passing = resolve(reader.lines(gray))
    return PrintedRead(number, seen, passing, (time.perf_counter() - started) * 1000.0)


class PrintedCodeEngine:
    """An engine that, when `inner` reads nothing in a frame with code-like texture, reads the printed code.

    `read` also says what OCR made of the frame (`decode --json`'s `printed_code`). A live stream shows the
    same damaged code for seconds: `min_interval_s` spaces OCR runs out (the bridge's frames), 0 reads every
    missed file. Without the OCR package the engine says so once in the log and reads QR codes as before."""

    def __init__(self, inner: Inner, reader: TextReader | None = None, min_interval_s: float = 0.0) -> None:
        self.inner = inner
        self.name = inner.name
        self.reader = reader or TextReader()
        self.min_interval_s = min_interval_s
        self.available = True
        self._lock = threading.Lock()
        self._last = -float("inf")

    def _due(self) -> bool:
        with self._lock:
            now = time.monotonic()
            if not self.available or now - self._last < self.min_interval_s:
                return False
            self._last = now
            return True

    def read(self, gray: np.ndarray) -> tuple[list[Symbol], PrintedRead | None]:
        symbols = self.inner.decode(gray)
        if symbols or not preprocess.looks_like_code(gray) or not self._due():
            return symbols, None
        try:
            printed = read_printed_code(gray, self.reader)
        except OcrUnavailable as exc:
            self.available = False
            log.warning("%s", exc)
            return [], None
        if printed.number is None:
            return [], printed
        text = " ".join(printed.number[i:i + 4] for i in range(0, LENGTH, 4))
        return [Symbol(text, printed.number.encode("ascii"), FORMAT, ENGINE, printed.ms)], printed

    def decode(self, gray: np.ndarray) -> list[Symbol]:
        return self.read(gray)[0]
