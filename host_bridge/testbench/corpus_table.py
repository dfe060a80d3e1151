"""Every QR decoder side by side on a real-photo corpus, each photo at its own size and framed as a VGA and a
QVGA camera would deliver it: reads, wrong reads and median ms per frame, all measured in one run.

Used by `electeur bench decode` and `electeur bench firmware-decoder`. A read is right when the payload's
bytes equal the expected text's, or decode to it in one of the corpus's charsets (UTF-8, Shift_JIS, GB2312,
ISO-8859-1: its README says a few payloads are not UTF-8); any other payload is a wrong read.
"""

from __future__ import annotations

import importlib
import statistics
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Callable

import numpy as np
import zxingcpp
from PIL import Image
from tqdm import tqdm

from host_bridge.decode.engines import get_engine
from host_bridge.decode.files import iter_images
from host_bridge.decode.image import load_gray
from host_bridge.testbench.replay import expected_bytes

FRAMES: dict[str, tuple[int, int] | None] = {"original": None, "VGA": (640, 480), "QVGA": (320, 240)}
CHARSETS = ("utf-8", "shift_jis", "gb2312", "iso-8859-1")
# Expected texts of the corpus shown wrong by the symbol itself (ZXing never read these photos, so its test
# never checked them). qrcode-2/13.png: every reader that decodes it (three preprocessings, Reed-Solomon
# level Q) reads "photography", as in its twin 12.png; segno's encoding of that text agrees with 93 % of the
# sampled modules, the text file's "photograph" with 69 % (docs/performance.md).
ERRATA: dict[str, bytes] = {
    "qrcode-2/13.png": b"The 2005 USGS aerial photography of the Washington Monument is censored.",
}

# Other codes in a photo, besides the one its text file names: reading them is neither right nor wrong.
# qrcode-2/16.png is a "double QR", a second symbol printed inside the first one's data area.
ALSO_IN_PHOTO: dict[str, tuple[bytes, ...]] = {
    "qrcode-2/16.png": ("[内側QRコード]\r\n\r\n*ダブルQR*\r\nhttp://d-qr.net/ex/".encode(),),
}

Decoder = Callable[[np.ndarray], list[bytes]]


def framed(gray: np.ndarray, size: tuple[int, int] | None, upscale: bool = False) -> np.ndarray:
    """The image centred in a frame of `size` on mid-grey, scaled to fit (aspect kept; smaller images only
    grow when `upscale`); None: the image itself."""
    if size is None:
        return gray
    w, h = size
    img = Image.fromarray(gray)
    k = min(w / img.width, h / img.height)
    if k < 1 or upscale:
        img = img.resize((max(1, round(img.width * k)), max(1, round(img.height * k))), Image.Resampling.BOX)
    frame = Image.new("L", (w, h), 128)
    frame.paste(img, ((w - img.width) // 2, (h - img.height) // 2))
    return np.asarray(frame)


def expected_of(image: Path) -> bytes | None:
    """The expected payload of a corpus photo, corrected where ERRATA says the text file is wrong."""
    key = f"{image.parent.name}/{image.name}"
    return ERRATA.get(key, expected_bytes(image))


def matches(payload: bytes, expected: bytes) -> bool:
    """The payload is the expected text: same bytes, or the same text in one of the corpus's charsets."""
    if payload == expected:
        return True
    text = expected.decode("utf-8", "replace")
    for charset in CHARSETS:
        try:
            if payload.decode(charset) == text:
                return True
        except UnicodeDecodeError:
            continue
    return False


def load_firmware_decoder(tree: Path | None = None) -> ModuleType:
    """`firmware.qr.decoder` of the repo, or of another firmware tree (a baseline version) loaded beside it:
    its modules are imported under their own names, then put aside again."""
    if tree is None:
        return importlib.import_module("firmware.qr.decoder")
    saved = {k: v for k, v in sys.modules.items() if k == "firmware" or k.startswith("firmware.")}
    for name in saved:
        del sys.modules[name]
    sys.path.insert(0, str(tree.resolve().parent))
    try:
        return importlib.import_module("firmware.qr.decoder")
    finally:
        sys.path.pop(0)
        for name in [k for k in sys.modules if k == "firmware" or k.startswith("firmware.")]:
            del sys.modules[name]
        sys.modules.update(saved)


def _firmware(module: ModuleType) -> Decoder:
    decode = module.decode
    return lambda g: list(decode(np.ascontiguousarray(g, np.uint8).tobytes(), g.shape[1], g.shape[0]))


def _engine(name: str) -> Decoder:
    engine = get_engine(name)
    return lambda g: [s.data for s in engine.decode(g)]


def _zxing_qr(g: np.ndarray) -> list[bytes]:
    return [b.bytes for b in zxingcpp.read_barcodes(g, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)) if b.valid]


def _quirc() -> Decoder:
    """quirc (the C decoder of OpenMV and Espressif's examples) through the `pyquirc` binding."""
    import quirc

    def decode(g: np.ndarray) -> list[bytes]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a symbol found but not decoded is a miss here
            return [bytes(data.payload) for _, data in quirc.decode(np.ascontiguousarray(g))]
    return decode


def _wechat() -> Decoder:
    """OpenCV's WeChat QR decoder (opencv-contrib), without its optional CNN models. Its Python binding
    returns text, not bytes: a payload that is not UTF-8 raises, counted here as nothing read."""
    import cv2
    if not hasattr(cv2, "wechat_qrcode_WeChatQRCode"):  # opencv-python (rapidocr's) shadows the contrib build
        raise ImportError("cv2 without the contrib modules: pip install opencv-contrib-python-headless after the rest")
    detector = cv2.wechat_qrcode_WeChatQRCode()

    def decode(g: np.ndarray) -> list[bytes]:
        try:
            texts = detector.detectAndDecode(np.ascontiguousarray(g))[0]
        except UnicodeDecodeError:
            return []
        return [t.encode("utf-8") for t in texts]
    return decode


def decoders(baseline: Path | None = None) -> dict[str, Decoder]:
    """The cascade, zxing-cpp (QR only), zbar, quirc and OpenCV WeChat where installed, and firmware/qr under
    CPython (plus a baseline firmware tree's)."""
    out: dict[str, Decoder] = {"cascade": _engine("cascade"), "zxing-cpp": _zxing_qr}
    optional: dict[str, Callable[[], Decoder]] = {"zbar": lambda: _engine("zbar"), "quirc": _quirc, "wechat": _wechat}
    for name, make in optional.items():
        try:
            out[name] = make()
        except ImportError as exc:
            print(f"bench: {name} skipped ({exc})", file=sys.stderr)
    out["firmware/qr"] = _firmware(load_firmware_decoder())
    if baseline is not None:
        out["firmware/qr baseline"] = _firmware(load_firmware_decoder(baseline))
    return out


@dataclass
class Cell:
    """One decoder at one framing: right reads, wrong reads, decode times (ms) per photo."""

    right: int = 0
    wrong: int = 0
    ms: list[float] = field(default_factory=list)


def photos(corpus: Path) -> list[Path]:
    """The QR photos with an expected text (zxing-qrcode, wherever it is under `corpus`)."""
    root = corpus / "zxing-qrcode" if (corpus / "zxing-qrcode").is_dir() else corpus
    return [p for p in iter_images([root]) if expected_bytes(p) is not None]


def wrong(payload: bytes, expected: bytes, image: Path) -> bool:
    """A payload that is neither the expected text nor another code known to be in the photo."""
    others = ALSO_IN_PHOTO.get(f"{image.parent.name}/{image.name}", ())
    return not matches(payload, expected) and not any(matches(payload, o) for o in others)


def frames(corpus: Path) -> dict[str, list[tuple[Path, np.ndarray, bytes]]]:
    """Per framing, every photo as (path, gray frame, expected payload)."""
    out: dict[str, list[tuple[Path, np.ndarray, bytes]]] = {name: [] for name in FRAMES}
    for path in photos(corpus):
        gray = load_gray(path)
        expected = expected_of(path)
        assert expected is not None
        for name, size in FRAMES.items():
            out[name].append((path, np.ascontiguousarray(framed(gray, size)), expected))
    return out


def measure(table: dict[str, list[tuple[Path, np.ndarray, bytes]]], decs: dict[str, Decoder],
            repeat: int = 1) -> dict[tuple[str, str], Cell]:
    """(framing, decoder) -> Cell, every decoder on every frame (median of `repeat` timings)."""
    cells: dict[tuple[str, str], Cell] = {}
    for framing, items in table.items():
        for path, gray, expected in tqdm(items, desc=f"corpus {framing}", unit="photo", file=sys.stderr):
            for name, fn in decs.items():
                times, found = [], []
                for _ in range(repeat):
                    t = time.perf_counter()
                    found = fn(gray)
                    times.append((time.perf_counter() - t) * 1000.0)
                cell = cells.setdefault((framing, name), Cell())
                cell.ms.append(statistics.median(times))
                right = any(matches(p, expected) for p in found)
                cell.right += right
                cell.wrong += any(wrong(p, expected, path) for p in found)
    return cells


def print_table(cells: dict[tuple[str, str], Cell], photos_count: int) -> None:
    """One row per decoder, per framing: reads/photos, wrong reads, median ms."""
    names = list(dict.fromkeys(name for _, name in cells))
    framings = list(dict.fromkeys(framing for framing, _ in cells))
    print(f"corpus: {photos_count} QR photos with an expected text; reads / wrong reads / median ms per frame")
    print(f"{'decoder':<30}" + "".join(f"{f:>24}" for f in framings))
    for name in names:
        row = ""
        for framing in framings:
            c = cells.get((framing, name))
            row += f"{'-':>24}" if c is None else f"{c.right:>7}/{photos_count:<3} {c.wrong:>3} {statistics.median(c.ms):>9.2f}"
        print(f"{name:<30}" + row)
    print(f"(expected texts corrected by the symbol itself: {', '.join(ERRATA)}; a second code known in "
          f"{', '.join(ALSO_IN_PHOTO)} is not a wrong read; see docs/performance.md)")


def failure_stages(table: dict[str, list[tuple[Path, np.ndarray, bytes]]],
                   module: ModuleType) -> dict[str, dict[str, int]] | None:
    """Per framing, how many photos firmware/qr did not read right, by the stage its trace says they were
    lost at (`wrong` for a wrong payload); None for a decoder version without a trace."""
    if not hasattr(module, "failed_at"):
        return None
    out: dict[str, dict[str, int]] = {}
    for framing, items in table.items():
        counts = out.setdefault(framing, {})
        for path, gray, expected in items:
            trace: list[str] = []
            found = module.decode(gray.tobytes(), gray.shape[1], gray.shape[0], trace=trace)
            if any(matches(p, expected) for p in found):
                continue
            stage = "wrong" if any(wrong(p, expected, path) for p in found) else str(module.failed_at(trace))
            counts[stage] = counts.get(stage, 0) + 1
    return out


def print_stages(label: str, stages: dict[str, dict[str, int]] | None, stage_names: tuple[str, ...]) -> None:
    """The failure-stage counts of one decoder version, one row per framing."""
    if stages is None:
        print(f"{label}: no trace in this version")
        return
    columns = list(stage_names) + ["wrong"]
    print(f"{label:<30}" + "".join(f"{c:>9}" for c in columns))
    for framing, counts in stages.items():
        print(f"  {framing:<28}" + "".join(f"{counts.get(c, 0):>9}" for c in columns))
