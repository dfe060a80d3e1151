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


def sample(bits, w, h, hm, dim):
    """bytearray dim*dim of module values (1 = dark) at module centres, or None if the grid leaves the frame."""
    h0, h1, h2, h3, h4, h5, h6, h7 = hm
    out = bytearray(dim * dim)
    i = 0
    for r in range(dim):
        y = r + 0.5
        bx = h1 * y + h2
        by = h4 * y + h5
        bd = h7 * y + 1.0
        for c in range(dim):
            x = c + 0.5
            d = h6 * x + bd
            if d == 0.0:
                return None
            px = int((h0 * x + bx) / d)
            py = int((h3 * x + by) / d)
            if px < 0 or py < 0 or px >= w or py >= h:
                if px < -1 or py < -1 or px > w or py > h:
                    return None
                px = min(max(px, 0), w - 1)
                py = min(max(py, 0), h - 1)
            out[i] = bits[py * w + px]
            i += 1
    return out
