"""Segment parsing of corrected data codewords into the payload bytes.

Numeric and alphanumeric become ASCII, byte segments are copied, Kanji gives its Shift-JIS bytes and
Hanzi its GB2312 bytes; ECI designators, FNC1 and the structured-append header carry no payload bytes.
A malformed bit stream returns None rather than a partial payload.
"""

ALNUM = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"


class _Bits:
    def __init__(self, data):
        self.data = data
        self.pos = 0
        self.size = len(data) * 8

    def left(self):
        return self.size - self.pos

    def read(self, n):
        if n > self.size - self.pos:
            raise ValueError("short")
        v = 0
        for _ in range(n):
            p = self.pos
            v = v << 1 | (self.data[p >> 3] >> (7 - (p & 7)) & 1)
            self.pos = p + 1
        return v


def _count_bits(mode, version):
    i = 0 if version <= 9 else (1 if version <= 26 else 2)
    if mode == 1:
        return (10, 12, 14)[i]
    if mode == 2:
        return (9, 11, 13)[i]
    if mode == 4:
        return (8, 16, 16)[i]
    return (8, 10, 12)[i]  # Kanji, Hanzi


def parse(data, version):
    """Payload bytes of the data codewords, or None when the stream is not a valid segment sequence."""
    try:
        return _parse(_Bits(data), version)
    except (ValueError, IndexError):
        return None


def _parse(b, version):
    out = bytearray()
    while b.left() >= 4:
        mode = b.read(4)
        if mode == 0:
            break
        if mode == 7:  # ECI designator: 1, 2 or 3 bytes
            first = b.read(8)
            if first & 0x80:
                if first & 0xC0 == 0x80:
                    b.read(8)
                elif first & 0xE0 == 0xC0:
                    b.read(16)
                else:
                    return None
        elif mode == 3:  # structured append: index, total, parity
            b.read(16)
        elif mode == 5:  # FNC1 first position
            pass
        elif mode == 9:  # FNC1 second position: application indicator
            b.read(8)
        elif mode == 1:
            n = b.read(_count_bits(1, version))
            while n >= 3:
                v = b.read(10)
                if v > 999:
                    return None
                out += ("%03d" % v).encode()
                n -= 3
            if n == 2:
                v = b.read(7)
                if v > 99:
                    return None
                out += ("%02d" % v).encode()
            elif n == 1:
                v = b.read(4)
                if v > 9:
                    return None
                out += ("%d" % v).encode()
        elif mode == 2:
            n = b.read(_count_bits(2, version))
            while n >= 2:
                v = b.read(11)
                if v >= 45 * 45:
                    return None
                out.append(ALNUM[v // 45])
                out.append(ALNUM[v % 45])
                n -= 2
            if n:
                v = b.read(6)
                if v >= 45:
                    return None
                out.append(ALNUM[v])
        elif mode == 4:
            n = b.read(_count_bits(4, version))
            if n * 8 > b.left():
                return None
            for _ in range(n):
                out.append(b.read(8))
        elif mode == 8 or mode == 13:
            if mode == 13 and b.read(4) != 1:  # Hanzi subset 1: GB2312
                return None
            n = b.read(_count_bits(8, version))
            for _ in range(n):
                v = b.read(13)
                if mode == 8:
                    c = (v // 0xC0) << 8 | v % 0xC0
                    c += 0x8140 if c < 0x1F00 else 0xC140
                else:
                    c = (v // 0x60) << 8 | v % 0x60
                    c += 0xA1A1 if c < 0x0A00 else 0xA6A1
                out.append(c >> 8)
                out.append(c & 0xFF)
        else:
            return None
    return bytes(out)
