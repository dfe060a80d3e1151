"""Local threshold (zxing's hybrid binariser): dark = 1, light = 0, written in place over the gray frame.

Block means on an 8x8 tile grid, each tile's threshold the mean of its 5x5 tile neighbourhood; flat
tiles (no edge inside) lean to white so blank paper, glare and shadows do not turn into noise. Costs two
small buffers of tile values, no copy of the frame, and no allocation inside the pixel loops.
"""

TILE = 8


def tile_thresholds(buf, w, h, means=None):
    """bytearray of one threshold per 8x8 tile (tw x th tiles, edge tiles clipped to the frame), and tw.

    `means` is the tile-statistics pass (`tile_means_portable` or its viper twin).
    """
    tw = (w + TILE - 1) // TILE
    th = (h + TILE - 1) // TILE
    avg = bytearray(tw * th)
    (means or tile_means_portable)(buf, w, h, avg, tw)
    thr = bytearray(tw * th)
    for ty in range(th):
        ya = max(min(ty - 2, th - 5), 0)
        yb = min(ya + 5, th)
        for tx in range(tw):
            xa = max(min(tx - 2, tw - 5), 0)
            xb = min(xa + 5, tw)
            s = 0
            for yy in range(ya, yb):
                o = yy * tw
                for xx in range(o + xa, o + xb):
                    s += avg[xx]
            thr[ty * tw + tx] = s // ((yb - ya) * (xb - xa))
    return thr, tw


def tile_means_portable(buf, w, h, avg, tw):
    """Per tile: mean of every other row and column (a quarter of the pixels); flat tiles (max - min <= 24)
    take half their minimum or their upper-left neighbours' level. Allocates nothing."""
    th = (h + TILE - 1) // TILE
    for ty in range(th):
        y0 = ty * TILE
        y1 = min(y0 + TILE, h)
        for tx in range(tw):
            x0 = tx * TILE
            x1 = min(x0 + TILE, w)
            s = 0
            n = 0
            lo = 255
            hi = 0
            for y in range(y0, y1, 2):
                o = y * w
                for i in range(o + x0, o + x1, 2):
                    v = buf[i]
                    s += v
                    n += 1
                    if v < lo:
                        lo = v
                    if v > hi:
                        hi = v
            a = s // n
            if hi - lo <= 24:
                a = lo // 2
                if ty > 0 and tx > 0:
                    i = ty * tw + tx
                    nb = (avg[i - tw] + 2 * avg[i - 1] + avg[i - tw - 1]) // 4
                    if lo < nb:
                        a = nb
            avg[ty * tw + tx] = a


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
