# HMAC-SHA256 (RFC 2104) on top of hashlib.sha256, which every MicroPython port we ship on has (ESP32, RP2040,
# unix, wasm) and CPython too; MicroPython has no `hmac` module. Its sha256 objects cannot be copied, so the
# padded keys are kept and hashed again per call: 2 extra compressions per MAC, nothing on the heap that stays.
from hashlib import sha256

BLOCK = 64


class Hmac:
    """A key prepared once; `mac(*parts)` is HMAC-SHA256(key, b"".join(parts)) without joining them."""

    def __init__(self, key):
        if len(key) > BLOCK:
            key = sha256(key).digest()
        key = bytes(key) + bytes(BLOCK - len(key))
        self._inner = bytes(b ^ 0x36 for b in key)
        self._outer = bytes(b ^ 0x5C for b in key)

    def mac(self, *parts):
        h = sha256(self._inner)
        for p in parts:
            h.update(p)
        return sha256(self._outer + h.digest()).digest()


def hmac(key, *parts):
    return Hmac(key).mac(*parts)


def fingerprint(key):
    """8 hex digits that name a pairing key (CONFIG's `paired`, `electeur pair`) without revealing it; here, not in
    secure.py, so a USB reader answering CONFIG_GET loads no more than this module."""
    return sha256(b"e-lecteur key id" + key).digest()[:4].hex() if key else ""


def equal(a, b):
    """Constant-time comparison of two byte strings (the time does not tell how many bytes matched)."""
    if len(a) != len(b):
        return False
    d = 0
    for i in range(len(a)):
        d |= a[i] ^ b[i]
    return d == 0
