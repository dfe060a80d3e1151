"""Perspective mapping from module coordinates to the frame, and sampling of the module grid."""


def perspective(src, dst):
    """Homography coefficients (8) mapping the 4 points `src` onto `dst`, or None when degenerate."""
    a = []
    for i in range(4):
        x, y = src[i]
        u, v = dst[i]
        a.append([x, y, 1.0, 0.0, 0.0, 0.0, -x * u, -y * u, u])
        a.append([0.0, 0.0, 0.0, x, y, 1.0, -x * v, -y * v, v])
    for col in range(8):
        piv = col
        for r in range(col + 1, 8):
            if abs(a[r][col]) > abs(a[piv][col]):
                piv = r
        if abs(a[piv][col]) < 1e-9:
            return None
        a[col], a[piv] = a[piv], a[col]
        p = a[col]
        for r in range(8):
            if r != col and a[r][col] != 0.0:
                f = a[r][col] / p[col]
                row = a[r]
                for k in range(col, 9):
                    row[k] -= f * p[k]
    return [a[i][8] / a[i][i] for i in range(8)]


SCALE = 1 << 18  # fixed point for the per-row projective division: pixel * SCALE stays a small int
# the viper row (32-bit machine words on a board) only where no product can overflow: numerators under 2**30,
# denominators under 2**26 (the fraction's numerator, < 16 x denominator, then stays under 2**30)
N_MAX = 1 << 30
D_MAX = 1 << 26


def sample(f, hm, dim, ox=0.5, oy=0.5, part=None, out=None):
    """bytearray dim*dim of module values (1 = dark), or None if the grid leaves the frame.

    Each module centre's gray level is interpolated bilinearly (1/16 pixel) and compared with its tile's
    threshold: with modules of 1.5-2 pixels this halves the misread modules of a nearest-pixel sample.
    Floats only once per row; per module all arithmetic is on small integers (no allocation).
    Retries (after Reed-Solomon failed): (ox, oy) moves the sampling point within the module.
    part: (r0, r1, c0, c1), only those rows and columns of the grid `out` (piecewise sampling).
    """
    g = f.gray
    w = f.w
    h = f.h
    thr = f.thr
    tw = f.tw
    fast = f.fast
    h0, h1, h2, h3, h4, h5, h6, h7 = hm
    r0, r1, c0, c1 = part or (0, dim, 0, dim)
    if out is None:
        out = bytearray(dim * dim)
    for r in range(r0, r1):
        y = r + oy
        # X(c) = (nx + ax*c) / (d0 + g*c) at module points c + ox, as integers scaled by SCALE,
        # minus half a pixel so that the integer part is the upper-left pixel of the 2x2 interpolated
        d0 = h6 * ox + h7 * y + 1.0
        gi = int(h6 * SCALE)
        di = int(d0 * SCALE)
        ax = int((h0 - 0.5 * h6) * SCALE)
        nx = int((h0 * ox + h1 * y + h2 - 0.5 * d0) * SCALE)
        ay = int((h3 - 0.5 * h6) * SCALE)
        ny = int((h3 * ox + h4 * y + h5 - 0.5 * d0) * SCALE)
        row = sample_row
        if fast is not None and abs(di) + abs(gi) * c1 < D_MAX and abs(nx) + abs(ax) * c1 < N_MAX \
                and abs(ny) + abs(ay) * c1 < N_MAX:
            row = fast.sample_row  # machine words cannot overflow on this row
        if not row(g, w, h, thr, tw, out, r * dim, c0, c1, di, gi, nx, ax, ny, ay):
            return None
    if f.inv:
        for r in range(r0, r1):
            for i in range(r * dim + c0, r * dim + c1):
                out[i] ^= 1
    return out


def sample_row(g, w, h, thr, tw, out, o, c0, c1, di, gi, nx, ax, ny, ay):
    """Modules c0..c1-1 of one grid row into out[o + c]: module c's centre is at ((nx + ax c) / (di + gi c),
    (ny + ay c) / (di + gi c)) (integers scaled by SCALE). False when the row leaves the frame. `fast.sample_row`
    is its viper twin."""
    for c in range(c0, c1):
        d = di + gi * c
        if d <= 0:
            return False
        nxc = nx + ax * c
        nyc = ny + ay * c
        px = nxc // d
        py = nyc // d
        if px < 0 or py < 0 or px >= w - 1 or py >= h - 1:
            if px < -1 or py < -1 or px > w - 1 or py > h - 1:
                return False
            px = min(max(px, 0), w - 2)
            py = min(max(py, 0), h - 2)
            fx = 0
            fy = 0
        else:
            fx = ((nxc - px * d) << 4) // d
            fy = ((nyc - py * d) << 4) // d
        i = py * w + px
        v = ((g[i] * (16 - fx) + g[i + 1] * fx) * (16 - fy)
             + (g[i + w] * (16 - fx) + g[i + w + 1] * fx) * fy)
        cx = (px + (fx >> 3)) >> 3
        cy = (py + (fy >> 3)) >> 3
        out[o + c] = 1 if v <= (thr[cy * tw + cx] << 8) else 0
    return True


def apply(hm, x, y):
    """The frame point of module-space point (x, y)."""
    d = hm[6] * x + hm[7] * y + 1.0
    return (hm[0] * x + hm[1] * y + hm[2]) / d, (hm[3] * x + hm[4] * y + hm[5]) / d
