"""Local threshold (zxing's hybrid binariser): dark where the gray level is <= its tile's threshold.

Block means on an 8x8 tile grid, each tile's threshold the mean of its 5x5 tile neighbourhood; flat
tiles (no edge inside) lean to white so blank paper, glare and shadows do not turn into noise. The frame
is never written: rows are thresholded on demand into one row buffer and the grid sampler compares
interpolated gray levels, which reads small modules better than thresholded pixels. Costs two small
buffers of tile values, no copy of the frame, and no allocation inside the pixel loops.
"""

from array import array

TILE = 8


def tile_thresholds(buf, w, h, fast=None, inv=0):
    """bytearray of one threshold per 8x8 tile (tw x th tiles, edge tiles clipped to the frame), and tw.

    `fast`: the viper module (its twins of `tile_means_portable` and `box_means`), or None; inv: for light-on-dark.
    """
    tw = (w + TILE - 1) // TILE
    th = (h + TILE - 1) // TILE
    avg = bytearray(tw * th)
    thr = bytearray(tw * th)
    if fast is None:
        tile_means_portable(buf, w, h, avg, tw, inv)
        box_means(avg, thr, tw, th)
    else:
        fast.tile_means(buf, w, h, avg, tw, inv)
        fast.box_means(avg, thr, tw, th, bytearray(2 * tw))
    return thr, tw


def box_means(avg, thr, tw, th):
    """thr[i] = mean of the 5x5 tiles around tile i (the window shifted inside the grid at its edges).

    Separable running sums: a column sum per tile column, slid down one tile row at a time, and a row
    window slid along it: about 2 reads per tile instead of 25 (on a board this loop was half of a QVGA
    code frame's decode). The viper twin takes a scratch buffer for the column sums as a fifth argument."""
    kx = min(5, tw)
    ky = min(5, th)
    n = kx * ky
    col = [0] * tw
    for yy in range(ky):
        o = yy * tw
        for x in range(tw):
            col[x] += avg[o + x]
    ya = 0
    for ty in range(th):
        if ty > 2 and ya < th - 5:  # the window moves down one tile row
            out = ya * tw
            add = out + 5 * tw
            for x in range(tw):
                col[x] += avg[add + x] - avg[out + x]
            ya += 1
        s = 0
        for x in range(kx):
            s += col[x]
        xa = 0
        o = ty * tw
        for tx in range(tw):
            if tx > 2 and xa < tw - 5:  # the window moves right one tile
                s += col[xa + 5] - col[xa]
                xa += 1
            thr[o + tx] = s // n


def tile_means_portable(buf, w, h, avg, tw, inv=0):
    """Per tile: mean of every other row and column (a quarter of the pixels); flat tiles (max - min <= 24)
    take half their minimum or their upper-left neighbours' level (inv: halfway from their maximum to white,
    or the neighbours' level: light-on-dark codes). Allocates nothing."""
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
                if inv:  # the mirror image: flat tiles lean to black, light ones join light neighbours
                    a = (hi + 256) // 2
                    if ty > 0 and tx > 0:
                        i = ty * tw + tx
                        nb = (avg[i - tw] + 2 * avg[i - 1] + avg[i - tw - 1]) // 4
                        if hi > nb:
                            a = nb
                else:
                    a = lo // 2
                    if ty > 0 and tx > 0:
                        i = ty * tw + tx
                        nb = (avg[i - tw] + 2 * avg[i - 1] + avg[i - tw - 1]) // 4
                        if lo < nb:
                            a = nb
            avg[ty * tw + tx] = a


def row_bits_portable(gray, w, y, thr, tw, out, x0, x1):
    """Threshold columns x0..x1-1 of row y into `out`: 1 where darker than or equal to the tile's threshold."""
    o = y * w
    trow = (y >> 3) * tw
    for x in range(x0, x1):
        out[x] = 1 if gray[o + x] <= thr[trow + (x >> 3)] else 0


class Frame:
    """A gray frame (left untouched) with its tile thresholds and one reusable thresholded row.

    Row bits are 1 where the pixel is at or below its threshold whatever the polarity; code that looks for
    dark modules reads `inv` (searching the row for 0 rather than 1, or comparing pixels the other way).

    `fast` is the viper module where the port has one: same results, faster loops.
    """

    def __init__(self, gray, w, h, fast=None):
        self.gray = gray
        self.w = w
        self.h = h
        self.thr, self.tw = tile_thresholds(gray, w, h, fast)
        self.fast = fast
        self.row = bytearray(w)
        self._row = fast.row_bits if fast else row_bits_portable
        # finder windows of one row, 3 values each (finder.row_finders): at most one per two transitions
        n = 3 * (w // 2 + 1)
        self.hits = array("H", range(n))
        self.other = 0  # row windows of light-on-dark finders seen by the last scan
        self.inv = 0  # 1: light-on-dark, "dark" means above the threshold (row bits keep their meaning)

    def invert(self):
        """Switch to light-on-dark: thresholds whose flat tiles lean the other way, `inv` set."""
        self.inv = 1
        self.thr, self.tw = tile_thresholds(self.gray, self.w, self.h, self.fast, 1)

    def threshold_row(self, y, x0=0, x1=-1):
        """Threshold row y (columns x0..x1-1, default all) into `self.row`."""
        self._row(self.gray, self.w, y, self.thr, self.tw, self.row, x0, self.w if x1 < 0 else x1)
