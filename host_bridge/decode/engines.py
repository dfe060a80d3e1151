"""Decode engines behind one interface: `ENGINES[name]()` gives an object with `name` and `decode(gray)`.

zxing-cpp reads QR and Data Matrix fast; zbar (QR only) reads a few photos zxing-cpp misses; the
cascade (default) runs QR-only zxing-cpp on every frame and spends extra work only on frames that missed.
"""

from __future__ import annotations

import time
from types import ModuleType
from collections.abc import Callable, Sequence
from functools import partial
from typing import Protocol

import numpy as np
import zxingcpp

from host_bridge.decode import preprocess
from host_bridge.decode.firmware_engine import FirmwareEngine
from host_bridge.decode.symbol import Symbol, text_of

QR = zxingcpp.BarcodeFormat.QRCode
DATA_MATRIX = zxingcpp.BarcodeFormat.DataMatrix
QR_OR_DATA_MATRIX = (QR, DATA_MATRIX)
FRAME_BUDGET_MS = 150.0  # extra work the cascade may spend on one missed frame


class Engine(Protocol):
    name: str

    def decode(self, gray: np.ndarray) -> list[Symbol]: ...


def _now_ms() -> float:
    return time.perf_counter() * 1000.0


def _zxing(gray: np.ndarray, formats: zxingcpp.BarcodeFormat | Sequence[zxingcpp.BarcodeFormat], engine: str,
           started: float, try_invert: bool = True,
           binarizer: zxingcpp.Binarizer = zxingcpp.Binarizer.LocalAverage) -> list[Symbol]:
    found = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormats(formats), try_invert=try_invert,
                                   binarizer=binarizer)
    ms = _now_ms() - started
    return [Symbol(text_of(b.bytes, b.text), b.bytes, b.format.name, engine, ms) for b in found if b.valid]


def _zxing_variant(variant: Callable[[np.ndarray], np.ndarray], gray: np.ndarray, engine: str,
                   started: float) -> list[Symbol]:
    """A preprocessed copy of the frame (made only when this stage runs), read for QR and Data Matrix."""
    return _zxing(variant(gray), QR_OR_DATA_MATRIX, engine, started)


def _load_pyzbar() -> ModuleType:
    """pyzbar, imported late: loading libzbar costs time and the library may be missing on a host."""
    try:
        from pyzbar import pyzbar
    except ImportError as exc:
        raise ImportError(f"zbar engine unavailable: {exc} (install the system zbar library, e.g. libzbar0)") from None
    module: ModuleType = pyzbar
    return module


def _zbar(gray: np.ndarray, engine: str, started: float) -> list[Symbol]:
    pyzbar = _load_pyzbar()
    found = pyzbar.decode(np.ascontiguousarray(gray), symbols=[pyzbar.ZBarSymbol.QRCODE])
    ms = _now_ms() - started
    return [Symbol(text_of(s.data, s.data.decode("utf-8", "replace")), s.data, "QRCode", engine, ms) for s in found]


class ZxingEngine:
    """zxing-cpp, QR and Data Matrix, library defaults (rotation, downscale, inversion)."""

    name = "zxing"

    def decode(self, gray: np.ndarray) -> list[Symbol]:
        return _zxing(gray, QR_OR_DATA_MATRIX, self.name, _now_ms())


class ZbarEngine:
    """zbar through pyzbar: QR only (zbar has no Data Matrix)."""

    name = "zbar"

    def __init__(self) -> None:
        _load_pyzbar()  # fail at creation, with the fix in the message, rather than on the first frame

    def decode(self, gray: np.ndarray) -> list[Symbol]:
        return _zbar(gray, self.name, _now_ms())


class CascadeEngine:
    """QR-only zxing-cpp first; on a miss, Data Matrix, a half-size global-threshold pass for textured
    modules, zbar, then preprocessed variants, within a budget.

    The first pass skips inverted codes (a quarter of its cost). A miss escalates only when the frame has
    code-like texture (`preprocess.looks_like_code`, ~0.02 ms): empty frames, the common case in a live
    stream, cost little more than the first pass.
    """

    name = "cascade"

    def __init__(self, budget_ms: float = FRAME_BUDGET_MS) -> None:
        self.budget_ms = budget_ms
        try:
            _load_pyzbar()
            self.zbar = True
        except ImportError:
            self.zbar = False  # the cascade still works on zxing-cpp alone

    def decode(self, gray: np.ndarray) -> list[Symbol]:
        started = _now_ms()
        symbols = _zxing(gray, QR, self.name, started, try_invert=False)
        if symbols or not preprocess.looks_like_code(gray):
            return symbols
        stages: list[Callable[[], list[Symbol]]] = [
            lambda: _zxing(gray, DATA_MATRIX, self.name, started),
            # textured modules: averaged at half size, then one global threshold (local ones follow the texture)
            lambda: _zxing(preprocess.halve(gray), QR, self.name, started,
                           binarizer=zxingcpp.Binarizer.GlobalHistogram),
        ]
        if self.zbar:
            stages.append(lambda: _zbar(gray, self.name, started))
        stages += [partial(_zxing_variant, variant, gray, self.name, started) for variant in preprocess.VARIANTS]
        for stage in stages:
            if _now_ms() - started > self.budget_ms:
                break
            symbols = stage()
            if symbols:
                return symbols
        return []


ENGINES: dict[str, Callable[[], Engine]] = {
    "cascade": CascadeEngine,
    "zxing": ZxingEngine,
    "zbar": ZbarEngine,
    "firmware": FirmwareEngine,
}
DEFAULT_ENGINE = "cascade"


def get_engine(name: str = DEFAULT_ENGINE) -> Engine:
    """The engine called `name`; KeyError with the known names otherwise, ImportError if its library is missing."""
    try:
        factory = ENGINES[name]
    except KeyError:
        raise KeyError(f"unknown decode engine {name!r}; known: {', '.join(sorted(ENGINES))}") from None
    return factory()
