"""Viper twins of the per-pixel loops of `binarize` (tile statistics, row threshold).

Imported by the decoder only where the port compiles viper (ESP32, RP2040...); elsewhere the import
fails (SyntaxError, ImportError) and the portable loops run. The viper code is compiled on the board from
`SOURCE`, so this file itself compiles with a plain `mpy-cross` (which rejects viper without -march).
Both paths give identical bits: tests run SOURCE under CPython with a stand-in `ptr8`, and compile it for
armv6m/armv7m/xtensawin with mpy-cross.
"""

SOURCE = """
import micropython


@micropython.viper
def tile_means(buf, w: int, h: int, avg, tw: int, inv: int):
    p = ptr8(buf)
    a = ptr8(avg)
    th = (h + 7) >> 3
    ty = 0
    while ty < th:
        y0 = ty << 3
        y1 = y0 + 8
        if y1 > h:
            y1 = h
        tx = 0
        while tx < tw:
            x0 = tx << 3
            x1 = x0 + 8
            if x1 > w:
                x1 = w
            s = 0
            n = 0
            lo = 255
            hi = 0
            y = y0
            while y < y1:
                i = y * w + x0
                e = y * w + x1
                while i < e:
                    v = p[i]
                    s += v
                    n += 1
                    if v < lo:
                        lo = v
                    if v > hi:
                        hi = v
                    i += 2
                y += 2
            m = s // n
            if hi - lo <= 24:
                if inv:
                    m = (hi + 256) >> 1
                    if ty > 0 and tx > 0:
                        k = ty * tw + tx
                        nb = (a[k - tw] + 2 * a[k - 1] + a[k - tw - 1]) >> 2
                        if hi > nb:
                            m = nb
                else:
                    m = lo >> 1
                    if ty > 0 and tx > 0:
                        k = ty * tw + tx
                        nb = (a[k - tw] + 2 * a[k - 1] + a[k - tw - 1]) >> 2
                        if lo < nb:
                            m = nb
            a[ty * tw + tx] = m
            tx += 1
        ty += 1


@micropython.viper
def row_bits(gray, w: int, y: int, thr, tw: int, out, x0: int, x1: int):
    p = ptr8(gray)
    t = ptr8(thr)
    q = ptr8(out)
    o = y * w
    trow = (y >> 3) * tw
    x = x0
    while x < x1:
        if p[o + x] <= t[trow + (x >> 3)]:
            q[x] = 1
        else:
            q[x] = 0
        x += 1
"""

exec(SOURCE)
