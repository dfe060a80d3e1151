"""QR code decoder pipeline: binarise, find finders, fit the grid, read, correct, parse.

`decode(buf, width, height)` returns the payloads (bytes) of the codes read, [] when none. `buf` (8-bit
gray, row-major: bytes, bytearray or memoryview) is only read. A payload is returned only when every Reed-Solomon block of the
symbol was corrected and the segments parse; a mirrored symbol is read by transposing the grid.

`decode(..., trace=[])` also appends, for each attempt that stopped, the stage it stopped at (`STAGES`);
`failed_at(trace)` is the furthest one, where the frame was lost. Without a trace list nothing is recorded
and nothing is computed for it.
"""

from firmware.qr import binarize, codewords, finder, grid, segments
from firmware.qr.tables import align_positions

try:
    from firmware.qr import fast as _fast  # viper pixel loops, on ports that compile them
except (ImportError, SyntaxError, ValueError, AttributeError, NameError):
    _fast = None

MAX_TRIPLES = 8
# where an attempt can stop, in pipeline order: no contrast, under 3 finders, no right-angled triple, grid
# off the frame or timing patterns wrong, no valid format word, a Reed-Solomon block uncorrectable, bad segments
STAGES = ("binarise", "finders", "triple", "grid", "format", "RS", "segments")


def decode(buf, width, height, fast=_fast, trace=None):
    """Payloads of the QR codes in the frame (`buf` is read, never written); `trace`: a list, or None.

    A frame where nothing was read, but whose scan saw rows of light-on-dark finders, is scanned again for
    light-on-dark codes (a phone in dark mode) with the polarity swapped: frames that read, and empty scenes,
    pay nothing for it.
    """
    f = binarize.Frame(buf, width, height, fast)
    step = 2 if height >= 240 else 1  # a finder is >= 7 rows tall: every other row still crosses it twice
    found = _scan(f, step, trace)
    if not found and f.other >= 3:
        f.invert()
        found = _scan(f, step, trace)
    return found


def _scan(f, step, trace):
    cands = finder.find_finders(f, step)
    if len(cands) < 3:
        if trace is not None:
            trace.append("finders" if _contrast(f) else "binarise")
        return []
    cands.sort(key=lambda c: -c.count)
    cands = cands[:10]
    found = []
    read = []  # finder triples of the symbols read: candidates inside them are data, not finders
    triples = _triples(cands)
    if trace is not None and not triples:
        trace.append("triple")
    for tri in triples:
        if any(_inside(c, r) for c in tri for r in read):
            continue
        payload = _decode_triple(f, tri, trace)
        if payload is not None:
            if payload not in found:
                found.append(payload)
            read.append(tri)
    return found


def failed_at(trace):
    """The furthest stage any attempt reached before it stopped (`STAGES`), or None for an empty trace."""
    return max(trace, key=STAGES.index) if trace else None


def _contrast(f):
    """Whether any scanned row thresholds into both dark and light (trace only)."""
    for y in range(0, f.h, 8):
        f.threshold_row(y)
        if f.row.find(b"\x01") >= 0 and f.row.find(b"\x00") >= 0:
            return True
    return False


def _inside(c, tri):
    """Whether candidate c lies within (or on the finders of) the symbol spanned by tri."""
    tl, tr, bl = tri
    ux = tr.x - tl.x
    uy = tr.y - tl.y
    vx = bl.x - tl.x
    vy = bl.y - tl.y
    det = ux * vy - uy * vx
    if det == 0:
        return False
    px = c.x - tl.x
    py = c.y - tl.y
    a = (px * vy - py * vx) / det
    b = (ux * py - uy * px) / det
    return -0.3 <= a <= 1.3 and -0.3 <= b <= 1.3


def _triples(cands):
    """Plausible (top-left, top-right, bottom-left) triples, best score first.

    The score adds how far the corner is from a right angle (|cos|), how unequal the legs are (1 - short/long)
    and how unequal the module sizes are: perspective makes legs of 0.7:1 and corners of 70 degrees, so no
    single test rejects a triple, only the limits of a readable photo (legs 0.4:1, corners 60-120 degrees).
    """
    out = []
    n = len(cands)
    for i in range(n):
        for j in range(i + 1, n):
            for k in range(j + 1, n):
                a, b, c = cands[i], cands[j], cands[k]
                lo = min(a.ms, b.ms, c.ms)
                hi = max(a.ms, b.ms, c.ms)
                if hi > 2.0 * lo:
                    continue
                dab = _d2(a, b)
                dbc = _d2(b, c)
                dac = _d2(a, c)
                # the right-angle corner is opposite the longest side
                if dbc >= dab and dbc >= dac:
                    tl, p, q, s1, s2 = a, b, c, dab, dac
                elif dac >= dab:
                    tl, p, q, s1, s2 = b, a, c, dab, dbc
                else:
                    tl, p, q, s1, s2 = c, a, b, dac, dbc
                short = min(s1, s2)
                if short < 0.16 * max(s1, s2) or short < (7 * lo) ** 2:
                    continue
                cos = abs((p.x - tl.x) * (q.x - tl.x) + (p.y - tl.y) * (q.y - tl.y)) / (s1 * s2) ** 0.5
                if cos > 0.5:
                    continue
                score = cos + 1.0 - (short / max(s1, s2)) ** 0.5 + (hi - lo) / hi
                # orient: top-right then bottom-left clockwise in image coordinates (y down)
                cross = (p.x - tl.x) * (q.y - tl.y) - (p.y - tl.y) * (q.x - tl.x)
                if cross < 0:
                    p, q = q, p
                out.append((score, (tl, p, q)))
    out.sort(key=lambda e: e[0])
    return [t for _, t in out[:MAX_TRIPLES]]


def _d2(a, b):
    return (a.x - b.x) ** 2 + (a.y - b.y) ** 2


def _dimensions(tl, tr, bl):
    """Candidate symbol sizes from the finder spacing: the estimate first, then +-4 and +-8 modules."""
    ms = (tl.ms + tr.ms + bl.ms) / 3.0
    d = (_d2(tl, tr) ** 0.5 + _d2(tl, bl) ** 0.5) / (2.0 * ms)
    dim = int(d + 0.5) + 7
    r = dim & 3
    if r == 0:
        first = dim + 1
    elif r == 2:
        first = dim - 1
    elif r == 3:
        first = dim - 2
    else:
        first = dim
    out = []
    for dd in (first, first + 4, first - 4, first + 8, first - 8):
        if 21 <= dd <= 177:
            out.append(dd)
    return out


def _decode_triple(f, tri, trace):
    tl, tr, bl = tri
    tried = []
    for dim in _dimensions(tl, tr, bl):
        version = (dim - 17) // 4
        res = _decode_version(f, tl, tr, bl, version, tried, trace)
        if res is not None:
            return res
    return None


def _decode_version(f, tl, tr, bl, version, tried, trace):
    if version in tried:
        return None
    tried.append(version)
    dim = 17 + 4 * version
    # module size implied by this version: finder run widths swell with blur and perspective
    ms = (_d2(tl, tr) ** 0.5 + _d2(tl, bl) ** 0.5) / (2.0 * (dim - 7))
    near = None  # the first grid whose format was read: worth resampling when only Reed-Solomon failed
    first = None
    for hm in _transforms(f, tl, tr, bl, ms, dim):
        m = grid.sample(f, hm, dim)
        if m is None:
            if trace is not None:
                trace.append("grid")
            continue
        if version >= 7:
            v = codewords.read_version(m, dim)
            if v < 0:
                v = codewords.read_version(_transpose(m, dim), dim)
            if v > 0 and v != version:
                p = _decode_version(f, tl, tr, bl, v, tried, trace)
                if p is not None:
                    return p
                continue  # a version block misread through a wrong grid: the other grids still count
        first = first or hm
        parts = [(hm, None)]
        p, near = _read_both(m, version, dim, parts, near, trace)
        if p:
            return p
    if first is not None and version >= 7:
        # bent or keystoned pages: every alignment pattern found, each region sampled through its own four
        parts = _regions(f, first, version, dim, ms)
        m = _sample_parts(f, parts, dim, 0.5, 0.5)
        if m is not None:
            p, near = _read_both(m, version, dim, parts, near, trace)
            if p:
                return p
    if near is None:
        return None
    parts, mirrored = near
    for ox, oy in RETRIES:
        m = _sample_parts(f, parts, dim, ox, oy)
        if m is not None:
            p = _read(_transpose(m, dim) if mirrored else m, version, dim, trace)
            if p:
                return p
    return None


def _read_both(m, version, dim, parts, near, trace):
    """(payload or None, near): the grid read as is, then mirrored; near remembers the first grid whose
    format was read (parts, mirrored), worth resampling when only Reed-Solomon failed."""
    for mirrored in (False, True):
        p = _read(_transpose(m, dim) if mirrored else m, version, dim, trace)
        if p:
            return p, near
        if p == RS_FAILED and near is None:
            near = (parts, mirrored)
    return None, near


RS_FAILED = 0  # _read: the format was read, a Reed-Solomon block was not correctable
# sampling retries once the format was read: the point moved by a fifth of a module each way, then diagonally
RETRIES = ((0.3, 0.5), (0.7, 0.5), (0.5, 0.3), (0.5, 0.7), (0.3, 0.3), (0.7, 0.7), (0.3, 0.7), (0.7, 0.3))


def _sample_parts(f, parts, dim, ox, oy):
    out = bytearray(dim * dim)
    for hm, part in parts:
        if grid.sample(f, hm, dim, ox, oy, part or (0, dim, 0, dim), out) is None:
            return None
    return out


def _regions(f, hm, version, dim, ms):
    """Piecewise grid [(homography, (r0, r1, c0, c1))]: alignment centres located one by one (each search
    starts where the global grid, moved by its found neighbours' offsets, puts it), then one homography per
    region between four neighbouring centres, the outer regions extended to the symbol's edge."""
    pos = align_positions(version)
    n = len(pos)
    pts = []
    for i in range(n):
        for j in range(n):
            x, y = grid.apply(hm, pos[j] + 0.5, pos[i] + 0.5)
            if (i == 0 and (j == 0 or j == n - 1)) or (j == 0 and i == n - 1):
                pts.append((x, y))  # inside a finder: the global grid fits there
                continue
            dx = dy = 0.0
            k = 0
            for q in ((i - 1) * n + j if i else -1, i * n + j - 1 if j else -1):
                if q >= 0:
                    ex, ey = grid.apply(hm, pos[q % n] + 0.5, pos[q // n] + 0.5)
                    dx += pts[q][0] - ex
                    dy += pts[q][1] - ey
                    k += 1
            if k:
                x += dx / k
                y += dy / k
            found = finder.find_alignments(f, x, y, ms, 3)
            pts.append(found[0] if found else (x, y))
    parts = []
    for i in range(n - 1):
        for j in range(n - 1):
            src = [(pos[j] + 0.5, pos[i] + 0.5), (pos[j + 1] + 0.5, pos[i] + 0.5),
                   (pos[j] + 0.5, pos[i + 1] + 0.5), (pos[j + 1] + 0.5, pos[i + 1] + 0.5)]
            dst = [pts[i * n + j], pts[i * n + j + 1], pts[(i + 1) * n + j], pts[(i + 1) * n + j + 1]]
            h = grid.perspective(src, dst)
            if h is None:
                return [(hm, None)]
            part = (0 if i == 0 else pos[i], dim if i == n - 2 else pos[i + 1],
                    0 if j == 0 else pos[j], dim if j == n - 2 else pos[j + 1])
            parts.append((h, part))
    return parts


def _transforms(f, tl, tr, bl, ms, dim):
    """Homographies module space -> frame: through the bottom-right alignment pattern, then affine."""
    src = [(3.5, 3.5), (dim - 3.5, 3.5), (3.5, dim - 3.5)]
    dst = [(tl.x, tl.y), (tr.x, tr.y), (bl.x, bl.y)]
    brx = tr.x - tl.x + bl.x
    bry = tr.y - tl.y + bl.y
    out = []
    if dim > 21:
        corr = 1.0 - 3.0 / (dim - 7)
        ex = tl.x + corr * (brx - tl.x)
        ey = tl.y + corr * (bry - tl.y)
        for allowance in (4, 8):
            found = finder.find_alignments(f, ex, ey, ms, allowance)
            for a in found:
                hm = grid.perspective(src + [(dim - 6.5, dim - 6.5)], dst + [a])
                if hm is not None:
                    out.append(hm)
            if found:
                break
    hm = grid.perspective(src + [(dim - 3.5, dim - 3.5)], dst + [(brx, bry)])
    if hm is not None:
        out.append(hm)
    return out


def _transpose(m, dim):
    t = bytearray(dim * dim)
    for r in range(dim):
        o = r * dim
        for c in range(dim):
            t[c * dim + r] = m[o + c]
    return t


def _timing_ok(m, dim):
    """Most timing-pattern modules (row and column 6, alternating) right: the grid fits this size."""
    bad = 0
    for i in range(8, dim - 8):
        want = 1 - (i & 1)
        bad += (m[6 * dim + i] != want) + (m[i * dim + 6] != want)
    return 4 * bad <= 2 * (dim - 16)


def _read(m, version, dim, trace):
    """The payload of a sampled grid; RS_FAILED when only Reed-Solomon failed; None otherwise."""
    stage = None
    p = None
    if not _timing_ok(m, dim):
        stage = "grid"
    else:
        fmt = codewords.read_format(m, dim)
        if fmt is None:
            stage = "format"
        else:
            data = codewords.correct_data(m, version, fmt[0], fmt[1])
            if data is None:
                stage = "RS"
                p = RS_FAILED
            else:
                p = segments.parse(data, version)
                if p is None:
                    stage = "segments"
    if trace is not None and stage is not None:
        trace.append(stage)
    return p
