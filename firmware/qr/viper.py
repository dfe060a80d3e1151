"""The viper twins of `fast`, compiled on the board from text (`SOURCE`): mpy-cross rejects viper without
-march, and a deploy does not know the board's architecture. Imported only by fast.py, on ports that compile viper."""

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

@micropython.viper
def row_finders(gray, w: int, y: int, thr, tw: int, inv: int, hits) -> int:
    p = ptr8(gray)
    t = ptr8(thr)
    q = ptr16(hits)
    o = y * w
    trow = (y >> 3) * tw
    x = 0
    while x < w:
        d = 0
        if p[o + x] <= t[trow + (x >> 3)]:
            d = 1
        if d != inv:
            break
        x += 1
    if x >= w:
        return 0
    p0 = -1
    p1 = -1
    p2 = -1
    p3 = -1
    p4 = -1
    p5 = x
    dark = 1
    n = 0
    other = 0
    while p5 < w:
        j = p5 + 1  # pixel p5 starts the current run
        while j < w:
            d = 0
            if p[o + j] <= t[trow + (j >> 3)]:
                d = 1
            if (d ^ inv) != dark:
                break
            j += 1
        p0 = p1
        p1 = p2
        p2 = p3
        p3 = p4
        p4 = p5
        p5 = j
        dark ^= 1
        if p0 < 0:
            continue
        c2 = p3 - p2
        s = p5 - p0
        if s < 7:
            continue
        # 1:1:3:1:1 within half a module (or 3/4 for tiny finders): m, e are the largest deviations x7
        m = 7 * (p1 - p0) - s
        if m < 0:
            m = -m
        e = 7 * (p2 - p1) - s
        if e < 0:
            e = -e
        if e > m:
            m = e
        e = 7 * (p4 - p3) - s
        if e < 0:
            e = -e
        if e > m:
            m = e
        e = 7 * (p5 - p4) - s
        if e < 0:
            e = -e
        if e > m:
            m = e
        e = 7 * c2 - 3 * s
        if e < 0:
            e = -e
        half = 2 * m < s and 2 * e < 3 * s
        if dark:
            if half:
                other += 1
            continue
        if half or (s <= 17 and 4 * m < 3 * s and 4 * e < 9 * s):
            k = 3 * n
            q[k] = p2 + p3
            q[k + 1] = s
            q[k + 2] = c2
            n += 1
    return n | (other << 16)

@micropython.viper
def sample_row(gray, w: int, h: int, thr, tw: int, out, o: int, c0: int, c1: int, di: int, gi: int, nx: int,
               ax: int, ny: int, ay: int) -> bool:
    g = ptr8(gray)
    t = ptr8(thr)
    q = ptr8(out)
    c = c0
    while c < c1:
        d = di + gi * c
        if d <= 0:
            return False
        nxc = nx + ax * c
        nyc = ny + ay * c
        px = nxc // d
        py = nyc // d
        fx = 0
        fy = 0
        if px < 0 or py < 0 or px >= w - 1 or py >= h - 1:
            if px < -1 or py < -1 or px > w - 1 or py > h - 1:
                return False
            if px < 0:
                px = 0
            if px > w - 2:
                px = w - 2
            if py < 0:
                py = 0
            if py > h - 2:
                py = h - 2
        else:
            fx = ((nxc - px * d) << 4) // d
            fy = ((nyc - py * d) << 4) // d
        i = py * w + px
        v = (int(g[i]) * (16 - fx) + int(g[i + 1]) * fx) * (16 - fy) + (int(g[i + w]) * (16 - fx) + int(g[i + w + 1]) * fx) * fy
        if v <= int(t[((py + (fy >> 3)) >> 3) * tw + ((px + (fx >> 3)) >> 3)]) << 8:
            q[o + c] = 1
        else:
            q[o + c] = 0
        c += 1
    return True

@micropython.viper
def box_means(avg, thr, tw: int, th: int, col):
    a = ptr8(avg)
    t = ptr8(thr)
    s16 = ptr16(col)
    kx = 5
    if tw < 5:
        kx = tw
    ky = 5
    if th < 5:
        ky = th
    n = kx * ky
    x = 0
    while x < tw:
        v = 0
        yy = 0
        while yy < ky:
            v += a[yy * tw + x]
            yy += 1
        s16[x] = v
        x += 1
    ya = 0
    ty = 0
    while ty < th:
        if ty > 2 and ya < th - 5:
            out = ya * tw
            add = out + 5 * tw
            x = 0
            while x < tw:
                s16[x] = s16[x] + a[add + x] - a[out + x]
                x += 1
            ya += 1
        s = 0
        x = 0
        while x < kx:
            s += s16[x]
            x += 1
        xa = 0
        o = ty * tw
        tx = 0
        while tx < tw:
            if tx > 2 and xa < tw - 5:
                s += s16[xa + 5] - s16[xa]
                xa += 1
            t[o + tx] = s // n
            tx += 1
        ty += 1
"""

exec(SOURCE)
del SOURCE  # 6 KB of text, not kept once compiled
