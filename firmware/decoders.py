# On-board decoders, probed at boot in order of speed: OpenMV's find_qrcodes/find_datamatrices, a native
# quirc module, zxing-cpp (the simulated board on CPython stands in for a native decoder), then the
# project's own MicroPython QR decoder (firmware.qr). None -> the reader streams frames to the host.
# decode(frame) -> list of (payload bytes, format).

import sys


def _payload(code):
    p = code.payload
    p = p() if callable(p) else p                 # OpenMV < 5.0: method; 5.0+: attribute
    return p.encode() if isinstance(p, str) else bytes(p)


class OpenMVDecoder:
    name = "openmv"

    def decode(self, frame):
        img = frame[3]
        out = [(_payload(c), "qr") for c in img.find_qrcodes()]
        if not out and hasattr(img, "find_datamatrices"):
            out = [(_payload(c), "datamatrix") for c in img.find_datamatrices()]
        return out


class QuircDecoder:
    name = "quirc"

    def __init__(self, mod):
        self.mod = mod

    def decode(self, frame):
        return [(bytes(p), "qr") for p in self.mod.decode(frame[3], frame[1], frame[2])]


class ZxingDecoder:
    name = "zxing-cpp"

    def __init__(self, mod, np):
        self.mod, self.np = mod, np

    def decode(self, frame):
        kind, w, h, buf = frame[:4]
        if kind != 0:
            return []
        gray = self.np.frombuffer(bytes(buf), dtype=self.np.uint8).reshape(h, w)
        out = []
        for r in self.mod.read_barcodes(gray):
            fmt = "datamatrix" if "DataMatrix" in str(r.format) else "qr"
            out.append((bytes(r.bytes), fmt))
        return out


class OwnQrDecoder:
    name = "firmware.qr"

    def __init__(self, mod):
        self.mod = mod

    def decode(self, frame):
        kind, w, h, buf = frame[:4]
        if kind != 0:
            return []
        return [(bytes(p), "qr") for p in self.mod.decode(buf, w, h)]


def probe(board=None):
    """The best decoder this build has, or None."""
    try:
        import image  # noqa: F401  (OpenMV firmware)
        import sensor  # noqa: F401
        return OpenMVDecoder()
    except ImportError:
        pass
    if sys.implementation.name == "micropython":  # on CPython, `quirc` is the pyquirc binding: another API
        try:
            import quirc
            return QuircDecoder(quirc)
        except ImportError:
            pass
    if board is not None and board["camera"]["driver"] == "sim":
        try:
            import numpy
            import zxingcpp
            return ZxingDecoder(zxingcpp, numpy)
        except ImportError:
            pass
    try:
        from firmware import qr
        return OwnQrDecoder(qr)
    except ImportError:
        return None
