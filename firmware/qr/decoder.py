"""QR code decoder pipeline: binarise, find finders, fit the grid, read, correct, parse.

`decode(buf, width, height)` returns the payloads (bytes) of the codes read, [] when none. `buf` (8-bit
gray, row-major: bytes, bytearray or memoryview) is only read. A payload is returned only when every Reed-Solomon block of the
symbol was corrected and the segments parse; a mirrored symbol is read by transposing the grid.

`decode(..., trace=[])` also appends, for each attempt that stopped, the stage it stopped at (`STAGES`);
`failed_at(trace)` is the furthest one, where the frame was lost. Without a trace list nothing is recorded
and nothing is computed for it.
"""

from firmware.qr import binarize, codewords, finder, grid, segments

try:
    from firmware.qr import fast as _fast  # viper pixel loops, on ports that compile them
except (ImportError, SyntaxError, ValueError, AttributeError, NameError):
    _fast = None

MAX_TRIPLES = 8
# where an attempt can stop, in pipeline order: no contrast, under 3 finders, no right-angled triple, grid
# off the frame or timing patterns wrong, no valid format word, a Reed-Solomon block uncorrectable, bad segments
STAGES = ("binarise", "finders", "triple", "grid", "format", "RS", "segments")


def decode(buf, width, height, fast=_fast, trace=None):
    """Payloads of the QR codes in the frame (`buf` is read, never written); `trace`: a list, or None."""
    f = binarize.Frame(buf, width, height, fast)
    step = 2 if height >= 240 else 1  # a finder is >= 7 rows tall: every other row still crosses it twice
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
    """Plausible (top-left, top-right, bottom-left) triples, best-shaped first."""
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
                    tl, p, q, s1, s2, hyp = a, b, c, dab, dac, dbc
                elif dac >= dab:
                    tl, p, q, s1, s2, hyp = b, a, c, dab, dbc, dac
                else:
                    tl, p, q, s1, s2, hyp = c, a, b, dac, dbc, dab
                if min(s1, s2) < 0.5 * max(s1, s2) or s1 < (7 * lo) ** 2:
                    continue
                err = abs(hyp - s1 - s2) / hyp + abs(s1 - s2) / max(s1, s2)
                if err > 0.6:
                    continue
                # orient: top-right then bottom-left clockwise in image coordinates (y down)
                cross = (p.x - tl.x) * (q.y - tl.y) - (p.y - tl.y) * (q.x - tl.x)
                if cross < 0:
                    p, q = q, p
                out.append((err, (tl, p, q)))
                if len(out) > 3 * MAX_TRIPLES:
                    break
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
                return _decode_version(f, tl, tr, bl, v, tried, trace)
        for mm in (m, _transpose(m, dim)):
            p = _read(mm, version, dim, trace)
            if p is not None:
                return p
    return None


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
            else:
                p = segments.parse(data, version)
                if p is None:
                    stage = "segments"
    if trace is not None and stage is not None:
        trace.append(stage)
    return p
