"""Module matrices of the codes: QR with segno (version, ECC, mode under control), Data Matrix with zxing-cpp's writer."""

from __future__ import annotations

import numpy as np
import segno
import zxingcpp

from host_bridge.testbench.samples.content import Content


def qr_modules(data: bytes, error: str) -> np.ndarray:
    """QR matrix (True = dark), byte mode, the given ECC level kept (no silent boost), no quiet zone."""
    qr = segno.make(data, error=error, mode="byte", micro=False, boost_error=False)
    return np.array([list(row) for row in qr.matrix], dtype=bool)


def datamatrix_modules(content: Content) -> np.ndarray:
    """Square ECC200 Data Matrix (True = dark), no quiet zone; GS1 codes carry FNC1 (from the HRI form)."""
    if content.gs1:
        code = zxingcpp.create_barcode(content.extra["hri"], zxingcpp.BarcodeFormat.DataMatrix, gs1=True, force_square=True)
    else:
        code = zxingcpp.create_barcode(content.payload, zxingcpp.BarcodeFormat.DataMatrix, force_square=True)
    return np.asarray(code.to_image(scale=1, add_quiet_zones=False)) < 128


def modules(content: Content, error: str = "M") -> np.ndarray:
    """The module matrix for `content` in its symbology."""
    return qr_modules(content.payload, error) if content.symbology == "qr" else datamatrix_modules(content)
