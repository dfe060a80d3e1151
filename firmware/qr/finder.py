"""Finder and alignment pattern search on a gray frame with its tile thresholds (`binarize.Frame`),
after zxing's FinderPatternFinder.

Rows are split into runs (portable: thresholded one at a time, then `bytearray.find`, C speed, cost per
transition, not per pixel; on viper ports pixel by pixel in machine code); a 1:1:3:1:1 run window is confirmed
by vertical, horizontal and diagonal cross-checks before it counts.
"""

ONE = b"\x01"
ZERO = b"\x00"


def _ratio_ok(c0, c1, c2, c3, c4, tn, td):
    """Runs in 1:1:3:1:1 proportion, each within tn/td modules (integer arithmetic: no allocation)."""
    t = c0 + c1 + c2 + c3 + c4
    if t < 7:
        return False
    lim = tn * t
    return (td * abs(7 * c0 - t) < lim and td * abs(7 * c1 - t) < lim and td * abs(7 * c2 - 3 * t) < 3 * lim
            and td * abs(7 * c3 - t) < lim and td * abs(7 * c4 - t) < lim)


def _cross(f, x, y, dx, dy, max_count, total_h):
    """Runs through (x, y) along (dx, dy): centre offset and the 5 run counts, or None."""
    g = f.gray
    t = f.thr
    tw = f.tw
    w = f.w
    h = f.h
    inv = f.inv
    st = [0, 0, 0, 0, 0]
    # backwards from the centre: dark (2), light (1), dark (0)
    i = 0
    state = 2
    while True:
        xx = x - i * dx
        yy = y - i * dy
        if xx < 0 or yy < 0 or xx >= w or yy >= h:
            break
        d = (g[yy * w + xx] <= t[(yy >> 3) * tw + (xx >> 3)]) != inv
        if state == 2:
            if not d:
                state = 1
        elif state == 1:
            if d:
                state = 0
        elif not d:
            break
        st[state] += 1
        if state < 2 and st[state] > max_count:
            return None
        i += 1
    back = i
    if state != 0 or st[0] == 0:
        return None
    i = 1
    state = 2
    while True:
        xx = x + i * dx
        yy = y + i * dy
        if xx < 0 or yy < 0 or xx >= w or yy >= h:
            break
        d = (g[yy * w + xx] <= t[(yy >> 3) * tw + (xx >> 3)]) != inv
        if state == 2:
            if not d:
                state = 3
        elif state == 3:
            if d:
                state = 4
        elif not d:
            break
        st[state] += 1
        if state > 2 and st[state] > max_count:
            return None
        i += 1
    if state != 4 or st[4] == 0:
        return None
    total = st[0] + st[1] + st[2] + st[3] + st[4]
    if total_h and 5 * abs(total - total_h) >= 2 * total_h:
        return None
    if not _ratio_ok(st[0], st[1], st[2], st[3], st[4], 3, 4):
        return None
    # centre of the middle run relative to pixel (x, y)'s left/top edge (edge coordinates)
    start = -(back - st[0] - st[1]) + 1
    return start + st[2] / 2.0, total


class Candidate:
    """A finder centre; integer copies of its position and reach let the row scan test hits without floats."""

    def __init__(self, x, y, ms):
        self.x = x
        self.y = y
        self.ms = ms
        self.count = 1
        self.place()

    def place(self):
        self.ix2 = int(2 * self.x)
        self.iy = int(self.y)
        self.rx = int(2 * self.ms) + 1
        self.ry = int(3.5 * self.ms) + 1


def _add(cands, x, y, ms):
    for c in cands:
        if abs(y - c.y) <= ms and abs(x - c.x) <= ms:
            d = abs(ms - c.ms)
            if d <= 1.0 or d <= c.ms:
                n = c.count
                c.x = (c.x * n + x) / (n + 1)
                c.y = (c.y * n + y) / (n + 1)
                c.ms = (c.ms * n + ms) / (n + 1)
                c.count = n + 1
                c.place()
                return
    cands.append(Candidate(x, y, ms))


def confirm(f, cx, y, total_h, c2):
    """Cross-check a row hit; return (x, y, module size) of the finder centre or None."""
    x = int(cx)
    v = _cross(f, x, y, 0, 1, c2, total_h)
    if v is None:
        return None
    cy = y + v[0]
    tv = v[1]
    yi = int(cy)
    hh = _cross(f, x, yi, 1, 0, c2, total_h)
    if hh is None:
        return None
    cx2 = x + hh[0]
    xi = int(cx2)
    if _cross(f, xi, yi, 1, 1, 2 * c2, 0) is None:
        return None
    return cx2, cy, (tv + hh[1]) / 14.0


def row_finders(f, y, hits):
    """Finder-like windows of row y: for each dark-light-dark-light-dark run window in 1:1:3:1:1 proportion,
    (twice its centre x, its width, its middle run) into hits[3k:3k + 3]; returns the count, plus the
    light-on-dark windows seen << 16. Portable: the row thresholded into one reused buffer, then walked
    transition by transition with `bytearray.find`, the last six transitions kept in locals (`fast.row_finders`
    is its viper twin, pixel by pixel)."""
    f.threshold_row(y)
    bits = f.row
    end = f.w
    one = ZERO if f.inv else ONE  # the bit of a dark pixel
    zero = ONE if f.inv else ZERO
    n = 0
    other = 0
    i = bits.find(one, 0, end)
    if i < 0:
        return 0
    # p0..p5: last six transitions; runs between them alternate dark, light, dark, light, dark
    p1 = p2 = p3 = p4 = -1
    p5 = i
    dark = True
    while p5 < end:
        j = bits.find(zero if dark else one, p5, end)
        if j < 0:
            j = end
        p0 = p1  # one by one: a 6-tuple assignment would allocate
        p1 = p2
        p2 = p3
        p3 = p4
        p4 = p5
        p5 = j
        dark = not dark
        if p0 < 0:
            continue
        c0 = p1 - p0
        c1 = p2 - p1
        c2 = p3 - p2
        c3 = p4 - p3
        c4 = p5 - p4
        if dark:  # the window ends on a light run: a finder of the other polarity, only counted
            if _ratio_ok(c0, c1, c2, c3, c4, 1, 2):
                other += 1
            continue
        if not _ratio_ok(c0, c1, c2, c3, c4, 1, 2) and (
                p5 - p0 > 17 or not _ratio_ok(c0, c1, c2, c3, c4, 3, 4)):
            continue  # tiny finders (under 2.5 px modules) get the looser tolerance of the cross-checks
        k = 3 * n
        hits[k] = p2 + p3
        hits[k + 1] = p5 - p0
        hits[k + 2] = c2
        n += 1
    return n | (other << 16)


def find_finders(f, step):
    """Finder centre candidates, each merged over the rows that confirmed it: every `step`-th row's
    finder-like windows (`row_finders`, or its viper twin) cross-checked; a hit inside a finder already
    confirmed only raises its count."""
    cands = []
    hits = f.hits
    fast = f.fast and f.fast.row_finders
    other = 0
    for y in range(step // 2, f.h, step):
        if fast is None:
            k = row_finders(f, y, hits)
        else:
            k = fast(f.gray, f.w, y, f.thr, f.tw, f.inv, hits)
        other += k >> 16
        for i in range(0, 3 * (k & 0xFFFF), 3):
            cx2 = hits[i]  # twice the centre x
            for c in cands:
                if abs(c.ix2 - cx2) <= c.rx and abs(c.iy - y) <= c.ry:
                    c.count += 1
                    break
            else:
                r = confirm(f, cx2 / 2.0, y, hits[i + 1], hits[i + 2])
                if r is not None:
                    _add(cands, r[0], r[1], r[2])
    f.other = other
    return cands


def find_alignments(f, ex, ey, ms, allowance):
    """Alignment pattern centres within allowance modules of (ex, ey): zxing-strict matches nearest first,
    then lenient ones (blur thins the light ring); at most 3."""
    w = f.w
    h = f.h
    bits = f.row
    r = int(allowance * ms)
    x0 = max(0, int(ex) - r)
    x1 = min(w, int(ex) + r)
    y0 = max(0, int(ey) - r)
    y1 = min(h, int(ey) + r)
    if x1 - x0 < 3 * ms or y1 - y0 < 3 * ms:
        return []
    lim = (int(ms / 2) + 1, int(1.5 * ms - 1e-9), int(ms / 2 + 0.999), int(2 * ms))
    found = []
    base = 0
    end = x1
    inv = f.inv
    for y in range(y0, y1):
        f.threshold_row(y, x0, x1)
        t3 = x0
        raw = bits[t3]
        t0 = t1 = t2 = -1
        while t3 < end:
            j = bits.find(ZERO if raw else ONE, t3, end)
            if j < 0:
                j = end
            t0 = t1
            t1 = t2
            t2 = t3
            t3 = j
            raw ^= 1
            if raw == inv or t0 < 0:
                continue  # the run just closed was dark: wait for light, dark, light
            a = t1 - t0
            b = t2 - t1
            c = t3 - t2
            strict = _align_runs(a, b, c, lim, True)
            if not strict and not _align_runs(a, b, c, lim, False):
                continue
            cx = t1 - base + b / 2.0
            v = _align_vertical(f, int(cx), y, lim)
            if v is None:
                continue
            cy = v[0]
            rank = (0 if strict and v[1] else 1000) + abs(cx - ex) + abs(cy - ey)
            for e in found:
                if abs(e[1] - cx) < ms and abs(e[2] - cy) < ms:
                    break
            else:
                found.append((rank, cx, cy))
    found.sort(key=lambda e: e[0])
    return [(e[1], e[2]) for e in found[:3]]


def _align_vertical(f, x, y, lim):
    """Dark run through (x, y) between two light runs, each about one module: (centre y, strict) or None."""
    g = f.gray
    w = f.w
    h = f.h
    t = f.thr
    tc = x >> 3
    tw = f.tw
    inv = f.inv
    top = lim[3] + 1
    up = y
    while up >= 0 and (g[up * w + x] <= t[(up >> 3) * tw + tc]) != inv and y - up <= top:
        up -= 1
    if up < 0 or y - up > top:
        return None
    dn = y
    while dn < h and (g[dn * w + x] <= t[(dn >> 3) * tw + tc]) != inv and dn - y <= top:
        dn += 1
    if dn >= h or dn - y > top:
        return None
    b = dn - up - 1
    a = 0
    yy = up
    while yy >= 0 and (g[yy * w + x] > t[(yy >> 3) * tw + tc]) != inv and a <= top:
        a += 1
        yy -= 1
    c = 0
    yy = dn
    while yy < h and (g[yy * w + x] > t[(yy >> 3) * tw + tc]) != inv and c <= top:
        c += 1
        yy += 1
    if not _align_runs(a, b, c, lim, False):
        return None
    return up + 1 + b / 2.0, _align_runs(a, b, c, lim, True)


def _align_runs(a, b, c, lim, strict):
    """Light, dark, light runs of an alignment pattern's centre, each about one module.

    lim: (strict low, strict high, lenient dark low, lenient high) in pixels.
    """
    if strict:
        return lim[0] <= a <= lim[1] and lim[0] <= b <= lim[1] and lim[0] <= c <= lim[1]
    return lim[2] <= b <= lim[3] and 1 <= a <= lim[3] and 1 <= c <= lim[3]
