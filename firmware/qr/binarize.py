"""Local threshold (zxing's hybrid binariser): dark = 1, light = 0, written in place over the gray frame.

Block means on an 8x8 tile grid (C-level `sum`/`min`/`max` over row slices), each tile's threshold the
mean of its 5x5 tile neighbourhood; flat tiles (no edge inside) lean to white so blank paper, glare and
shadows do not turn into noise. Costs one small buffer of tile values, no copy of the frame.
"""

TILE = 8


def tile_thresholds(buf, w, h):
    """bytearray of one threshold per 8x8 tile (tw x th tiles, edge tiles clipped to the frame)."""
    tw = (w + TILE - 1) // TILE
    th = (h + TILE - 1) // TILE
    avg = bytearray(tw * th)
    mv = memoryview(buf)
    for ty in range(th):
        y0 = ty * TILE
        y1 = min(y0 + TILE, h)
        for tx in range(tw):
            x0 = tx * TILE
            x1 = min(x0 + TILE, w)
            s = 0
            lo = 255
            hi = 0
            for y in range(y0, y1):
                row = mv[y * w + x0:y * w + x1]
                s += sum(row)
                v = min(row)
                if v < lo:
                    lo = v
                v = max(row)
                if v > hi:
                    hi = v
            a = s // ((y1 - y0) * (x1 - x0))
            if hi - lo <= 24:
                a = lo // 2
                if ty > 0 and tx > 0:
                    i = ty * tw + tx
                    nb = (avg[i - tw] + 2 * avg[i - 1] + avg[i - tw - 1]) // 4
                    if lo < nb:
                        a = nb
            avg[ty * tw + tx] = a
    thr = bytearray(tw * th)
    for ty in range(th):
        cy = min(max(ty, 2), th - 3) if th >= 5 else -1
        for tx in range(tw):
            cx = min(max(tx, 2), tw - 3) if tw >= 5 else -1
            s = 0
            n = 0
            for yy in (range(cy - 2, cy + 3) if cy >= 0 else range(th)):
                o = yy * tw
                for xx in (range(cx - 2, cx + 3) if cx >= 0 else range(tw)):
                    s += avg[o + xx]
                    n += 1
            thr[ty * tw + tx] = s // n
    return thr, tw


def apply_portable(buf, w, h, thr, tw):
    """Threshold every pixel in place: 1 where darker than or equal to its tile's threshold."""
    for y in range(h):
        o = y * w
        trow = (y // TILE) * tw
        for tx in range(tw):
            t = thr[trow + tx]
            x0 = o + tx * TILE
            x1 = min(x0 + TILE, o + w)
            for i in range(x0, x1):
                buf[i] = 1 if buf[i] <= t else 0
