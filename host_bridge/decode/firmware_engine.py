"""The on-board MicroPython QR decoder (`firmware.qr`) run by CPython, so it is measured on the same
images as the host engines (`electeur decode --engine firmware`)."""

from __future__ import annotations

import time

import numpy as np

from firmware.qr import decode as firmware_decode
from host_bridge.decode.symbol import Symbol, text_of


class FirmwareEngine:
    """QR only, exactly the code the reader runs, on the frame's bytes."""

    name = "firmware"

    def decode(self, gray: np.ndarray) -> list[Symbol]:
        started = time.perf_counter()
        height, width = gray.shape[:2]
        payloads = firmware_decode(np.ascontiguousarray(gray, dtype=np.uint8).tobytes(), width, height)
        ms = (time.perf_counter() - started) * 1000.0
        return [Symbol(text_of(p, p.decode("latin-1")), p, "QRCode", self.name, ms) for p in payloads]
