"""On-board QR code decoder in MicroPython (runs under CPython too): `decode(buf, width, height)`."""

from firmware.qr.decoder import decode  # noqa: F401
