"""Finder and alignment pattern search on a binarised frame (1 = dark), after zxing's FinderPatternFinder.

Rows are split into runs with `bytearray.find` (C speed, cost per transition, not per pixel); a 1:1:3:1:1
run window is confirmed by vertical, horizontal and diagonal cross-checks before it counts.
"""

ONE = b"\x01"
ZERO = b"\x00"


def row_runs(bits, w, y):
    """Transition positions (x) of row y, starting at the first dark pixel; last entry is w."""
    base = y * w
    end = base + w
    i = bits.find(ONE, base, end)
    if i < 0:
        return None
    pos = [i - base]
    dark = True
    while True:
        j = bits.find(ZERO if dark else ONE, i, end)
        if j < 0:
            pos.append(w)
            return pos
        pos.append(j - base)
        i = j
        dark = not dark


def _ratio_ok(c0, c1, c2, c3, c4, tol=0.5):
    """Runs in 1:1:3:1:1 proportion, each within `tol` modules."""
    total = c0 + c1 + c2 + c3 + c4
    if total < 7:
        return False
    ms = total / 7.0
    mv = ms * tol
    return (abs(ms - c0) < mv and abs(ms - c1) < mv and abs(3.0 * ms - c2) < 3.0 * mv
            and abs(ms - c3) < mv and abs(ms - c4) < mv)


def _cross(bits, w, h, x, y, dx, dy, max_count, total_h):
    """Runs through (x, y) along (dx, dy): centre offset and the 5 run counts, or None."""
    st = [0, 0, 0, 0, 0]
    # backwards from the centre: dark (2), light (1), dark (0)
    i = 0
    state = 2
    while True:
        xx = x - i * dx
        yy = y - i * dy
        if xx < 0 or yy < 0 or xx >= w or yy >= h:
            break
        d = bits[yy * w + xx]
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
        d = bits[yy * w + xx]
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
    if not _ratio_ok(st[0], st[1], st[2], st[3], st[4], 0.75):
        return None
    # centre of the middle run relative to pixel (x, y)'s left/top edge (edge coordinates)
    start = -(back - st[0] - st[1]) + 1
    return start + st[2] / 2.0, total


class Candidate:
    __slots__ = ("x", "y", "ms", "count")

    def __init__(self, x, y, ms):
        self.x = x
        self.y = y
        self.ms = ms
        self.count = 1


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
                return
    cands.append(Candidate(x, y, ms))


def confirm(bits, w, h, cx, y, total_h, c2):
    """Cross-check a row hit; return (x, y, module size) of the finder centre or None."""
    x = int(cx)
    v = _cross(bits, w, h, x, y, 0, 1, c2, total_h)
    if v is None:
        return None
    cy = y + v[0]
    tv = v[1]
    yi = int(cy)
    hh = _cross(bits, w, h, x, yi, 1, 0, c2, total_h)
    if hh is None:
        return None
    cx2 = x + hh[0]
    xi = int(cx2)
    if _cross(bits, w, h, xi, yi, 1, 1, 2 * c2, 0) is None:
        return None
    return cx2, cy, (tv + hh[1]) / 14.0


def find_finders(bits, w, h, step):
    """Finder centre candidates, each merged over the rows that confirmed it."""
    cands = []
    for y in range(step // 2, h, step):
        pos = row_runs(bits, w, y)
        if pos is None:
            continue
        n = len(pos)
        k = 0
        while k + 5 < n:
            c0 = pos[k + 1] - pos[k]
            c1 = pos[k + 2] - pos[k + 1]
            c2 = pos[k + 3] - pos[k + 2]
            c3 = pos[k + 4] - pos[k + 3]
            c4 = pos[k + 5] - pos[k + 4]
            if _ratio_ok(c0, c1, c2, c3, c4):
                cx = (pos[k + 2] + pos[k + 3]) / 2.0
                r = confirm(bits, w, h, cx, y, c0 + c1 + c2 + c3 + c4, c2)
                if r is not None:
                    _add(cands, r[0], r[1], r[2])
            k += 2
    return cands


def find_alignments(bits, w, h, ex, ey, ms, allowance):
    """Alignment pattern centres within allowance modules of (ex, ey): zxing-strict matches nearest first,
    then lenient ones (blur thins the light ring); at most 3."""
    r = int(allowance * ms)
    x0 = max(0, int(ex) - r)
    x1 = min(w, int(ex) + r)
    y0 = max(0, int(ey) - r)
    y1 = min(h, int(ey) + r)
    if x1 - x0 < 3 * ms or y1 - y0 < 3 * ms:
        return []
    found = []
    for y in range(y0, y1):
        base = y * w
        runs = []  # [value, start, length] inside [x0, x1)
        prev = -1
        for i in range(x0, x1):
            d = bits[base + i]
            if d != prev:
                runs.append([d, i, 1])
                prev = d
            else:
                runs[-1][2] += 1
        for j in range(1, len(runs) - 1):
            if runs[j][0] != 1:
                continue
            strict = _align_runs(runs[j - 1][2], runs[j][2], runs[j + 1][2], ms, True)
            if not strict and not _align_runs(runs[j - 1][2], runs[j][2], runs[j + 1][2], ms, False):
                continue
            cx = runs[j][1] + runs[j][2] / 2.0
            v = _align_vertical(bits, w, h, int(cx), y, ms)
            if v is None:
                continue
            cy, vstrict = v
            rank = (0 if strict and vstrict else 1000) + abs(cx - ex) + abs(cy - ey)
            for f in found:
                if abs(f[1] - cx) < ms and abs(f[2] - cy) < ms:
                    break
            else:
                found.append((rank, cx, cy))
    found.sort(key=lambda f: f[0])
    return [(f[1], f[2]) for f in found[:3]]


def _align_vertical(bits, w, h, x, y, ms):
    """Dark run through (x, y) between two light runs, each about one module; its centre y or None."""
    lim = int(2 * ms) + 1
    up = y
    while up >= 0 and bits[up * w + x] and y - up <= lim:
        up -= 1
    if up < 0 or y - up > lim:
        return None
    dn = y
    while dn < h and bits[dn * w + x] and dn - y <= lim:
        dn += 1
    if dn >= h or dn - y > lim:
        return None
    b = dn - up - 1
    a = 0
    yy = up
    while yy >= 0 and not bits[yy * w + x] and a <= lim:
        a += 1
        yy -= 1
    c = 0
    yy = dn
    while yy < h and not bits[yy * w + x] and c <= lim:
        c += 1
        yy += 1
    if not _align_runs(a, b, c, ms, False):
        return None
    return up + 1 + b / 2.0, _align_runs(a, b, c, ms, True)


def _align_runs(a, b, c, ms, strict):
    """Light, dark, light runs of an alignment pattern's centre, each about one module."""
    if strict:
        v = ms / 2.0
        return abs(ms - a) < v and abs(ms - b) < v and abs(ms - c) < v
    return 0.5 * ms <= b <= 2.0 * ms and 1 <= a <= 2.0 * ms and 1 <= c <= 2.0 * ms
