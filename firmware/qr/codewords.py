"""From a sampled module grid to corrected data codewords: format and version info, unmasking, the
zigzag codeword order, de-interleaving and Reed-Solomon correction of every block.
"""

from firmware.qr import rs
from firmware.qr.tables import align_positions, ec_blocks

# format level bits 01, 00, 11, 10 are L, M, Q, H; our level index 0..3 is L, M, Q, H
_LEVEL = (1, 0, 3, 2)


def read_format(m, dim):
    """(level index, mask) from the nearest valid format word of either copy, or None."""
    a = 0
    for c in range(6):
        a = a << 1 | m[8 * dim + c]
    a = a << 1 | m[8 * dim + 7]
    a = a << 1 | m[8 * dim + 8]
    a = a << 1 | m[7 * dim + 8]
    for r in range(5, -1, -1):
        a = a << 1 | m[r * dim + 8]
    b = 0
    for r in range(dim - 1, dim - 8, -1):
        b = b << 1 | m[r * dim + 8]
    for c in range(dim - 8, dim):
        b = b << 1 | m[8 * dim + c]
    for word in (a, b):
        data = rs.bch_nearest(word, 5, 0x537, 11, 0x5412, 3)
        if data >= 0:
            return _LEVEL[data >> 3], data & 7
    return None


def read_version(m, dim):
    """Version from either version-info block (BCH(18,6), up to 3 bit errors), or -1."""
    a = 0
    for r in range(5, -1, -1):
        for c in range(dim - 9, dim - 12, -1):
            a = a << 1 | m[r * dim + c]
    b = 0
    for c in range(5, -1, -1):
        for r in range(dim - 9, dim - 12, -1):
            b = b << 1 | m[r * dim + c]
    for word in (a, b):
        v = rs.bch_nearest(word, 6, 0x1F25, 13, 0, 3)
        if 7 <= v <= 40:
            return v
    return -1


def function_map(version):
    """bytearray dim*dim, 1 on modules that carry no data (finders, timing, alignment, format, version)."""
    dim = 17 + 4 * version
    f = bytearray(dim * dim)

    def fill(r0, c0, nr, nc):
        for r in range(r0, r0 + nr):
            o = r * dim
            for c in range(c0, c0 + nc):
                f[o + c] = 1

    fill(0, 0, 9, 9)
    fill(0, dim - 8, 9, 8)
    fill(dim - 8, 0, 8, 9)
    fill(6, 0, 1, dim)
    fill(0, 6, dim, 1)
    pos = align_positions(version)
    n = len(pos)
    for i in range(n):
        for j in range(n):
            if (i == 0 and j == 0) or (i == 0 and j == n - 1) or (i == n - 1 and j == 0):
                continue
            fill(pos[i] - 2, pos[j] - 2, 5, 5)
    if version >= 7:
        fill(0, dim - 11, 6, 3)
        fill(dim - 11, 0, 3, 6)
    return f


def _masked(mask, r, c):
    if mask == 0:
        return (r + c) % 2 == 0
    if mask == 1:
        return r % 2 == 0
    if mask == 2:
        return c % 3 == 0
    if mask == 3:
        return (r + c) % 3 == 0
    if mask == 4:
        return (r // 2 + c // 3) % 2 == 0
    if mask == 5:
        return (r * c) % 2 + (r * c) % 3 == 0
    if mask == 6:
        return ((r * c) % 2 + (r * c) % 3) % 2 == 0
    return ((r + c) % 2 + (r * c) % 3) % 2 == 0


def read_codewords(m, version, mask, total):
    """The `total` raw codewords in placement order, unmasked."""
    dim = 17 + 4 * version
    f = function_map(version)
    # every mask repeats every 12 rows and 12 columns: one table instead of a mask formula per module
    pat = bytearray(144)
    for i in range(144):
        pat[i] = _masked(mask, i // 12, i % 12)
    out = bytearray(total)
    n = 0
    bit = 0
    acc = 0
    up = True
    c = dim - 1
    while c > 0:
        if c == 6:
            c -= 1
        for k in range(dim):
            r = dim - 1 - k if up else k
            o = r * dim
            pr = (r % 12) * 12
            for cc in range(c, c - 2, -1):  # a counted loop: nothing allocated per module
                i = o + cc
                if f[i]:
                    continue
                acc = acc << 1 | (m[i] ^ pat[pr + cc % 12])
                bit += 1
                if bit == 8:
                    if n < total:
                        out[n] = acc
                    n += 1
                    acc = 0
                    bit = 0
        up = not up
        c -= 2
    return out


def max_errors(version, level, ecw):
    """Correctable errors per block: small symbols keep p codewords for misdecode protection (ISO 18004 Table 9)."""
    p = 0
    if version == 1:
        p = (3, 2, 1, 1)[level]
    elif version == 2 and level == 0:
        p = 2
    elif version == 3 and level == 0:
        p = 1
    return (ecw - p) // 2


def correct_data(m, version, level, mask):
    """Corrected data codewords of the symbol, or None when any block cannot be corrected."""
    ecw, nb1, nd1, nb2 = ec_blocks(version, level)
    nblocks = nb1 + nb2
    total = nb1 * (nd1 + ecw) + nb2 * (nd1 + 1 + ecw)
    raw = read_codewords(m, version, mask, total)
    blocks = [bytearray(nd1 + (1 if b >= nb1 else 0) + ecw) for b in range(nblocks)]
    k = 0
    for i in range(nd1 + 1):
        for b in range(nblocks):
            if i < nd1 or b >= nb1:
                blocks[b][i] = raw[k]
                k += 1
    for i in range(ecw):
        for b in range(nblocks):
            nd = nd1 + (1 if b >= nb1 else 0)
            blocks[b][nd + i] = raw[k]
            k += 1
    data = bytearray()
    cap = max_errors(version, level, ecw)
    for b in range(nblocks):
        blk = blocks[b]
        if rs.correct(blk, ecw, cap) < 0:
            return None
        data += blk[:len(blk) - ecw]
    return data
