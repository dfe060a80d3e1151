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


def sample(bits, w, h, hm, dim):
    """bytearray dim*dim of module values (1 = dark) at module centres, or None if the grid leaves the frame.

    Floats only once per row; per module the projective division is done on small integers, so the
    sampling allocates nothing beyond the output grid.
    """
    h0, h1, h2, h3, h4, h5, h6, h7 = hm
    out = bytearray(dim * dim)
    for r in range(dim):
        y = r + 0.5
        # X(c) = (nx + ax*c) / (d0 + g*c) at module centres c + 0.5, as integers scaled by SCALE
        d0 = h6 * 0.5 + h7 * y + 1.0
        g = int(h6 * SCALE)
        di = int(d0 * SCALE)
        ax = int(h0 * SCALE)
        nx = int((h0 * 0.5 + h1 * y + h2) * SCALE)
        ay = int(h3 * SCALE)
        ny = int((h3 * 0.5 + h4 * y + h5) * SCALE)
        o = r * dim
        for c in range(dim):
            d = di + g * c
            if d <= 0:
                return None
            px = (nx + ax * c) // d
            py = (ny + ay * c) // d
            if px < 0 or py < 0 or px >= w or py >= h:
                if px < -1 or py < -1 or px > w or py > h:
                    return None
                px = min(max(px, 0), w - 1)
                py = min(max(py, 0), h - 1)
            out[o + c] = bits[py * w + px]
    return out
