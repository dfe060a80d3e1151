"""Reed-Solomon decoding over GF(256) (QR: polynomial 0x11D, first root alpha^0) and BCH for format/version.

A block is corrected only when Berlekamp-Massey finds a locator whose roots all lie inside the block and
the corrected block has zero syndromes: anything else is refused (None), never guessed.
"""

EXP = bytearray(512)
LOG = bytearray(256)


def _init():
    x = 1
    for i in range(255):
        EXP[i] = x
        LOG[x] = i
        x <<= 1
        if x & 0x100:
            x ^= 0x11D
    for i in range(255, 512):
        EXP[i] = EXP[i - 255]


_init()


def mul(a, b):
    if a == 0 or b == 0:
        return 0
    return EXP[LOG[a] + LOG[b]]


def _syndromes(block, nsym):
    synd = bytearray(nsym)
    nonzero = False
    for i in range(nsym):
        s = 0
        if i == 0:
            for c in block:
                s ^= c
        else:
            for c in block:
                s = (EXP[LOG[s] + i] if s else 0) ^ c
        synd[i] = s
        if s:
            nonzero = True
    return synd if nonzero else None


def _poly_eval(poly, x):
    """poly low degree first."""
    y = 0
    for k in range(len(poly) - 1, -1, -1):
        y = mul(y, x) ^ poly[k]
    return y


def correct(block, nsym, max_errors=-1):
    """Correct `block` (data + nsym EC codewords) in place; return the error count, or -1 when refused.

    `max_errors` (default nsym // 2) lowers the capacity where the symbol reserves misdecode protection.
    """
    if max_errors < 0:
        max_errors = nsym // 2
    synd = _syndromes(block, nsym)
    if synd is None:
        return 0
    n = len(block)
    # Berlekamp-Massey: error locator C (low degree first).
    c = [1] + [0] * nsym
    b = [1] + [0] * nsym
    ll = 0
    m = 1
    bb = 1
    for k in range(nsym):
        d = synd[k]
        for i in range(1, ll + 1):
            d ^= mul(c[i], synd[k - i])
        if d == 0:
            m += 1
            continue
        coef = mul(d, EXP[255 - LOG[bb]])
        t = c[:]
        for i in range(nsym + 1 - m):
            if b[i]:
                c[i + m] ^= mul(coef, b[i])
        if 2 * ll <= k:
            ll = k + 1 - ll
            b = t
            bb = d
            m = 1
        else:
            m += 1
    if ll == 0 or ll > max_errors or any(c[ll + 1:]) or c[ll] == 0:
        return -1
    loc = c[:ll + 1]
    # Chien search over the positions of this block only.
    pos = []
    for k in range(n):
        xinv = EXP[(255 - (n - 1 - k)) % 255]
        if _poly_eval(loc, xinv) == 0:
            pos.append(k)
    if len(pos) != ll:
        return -1
    # Forney: omega = S(x) * loc(x) mod x^nsym; e = X * omega(X^-1) / loc'(X^-1).
    omega = [0] * nsym
    for i in range(nsym):
        s = 0
        for j in range(min(i, ll) + 1):
            s ^= mul(loc[j], synd[i - j])
        omega[i] = s
    deriv = [loc[i] if i & 1 else 0 for i in range(1, ll + 1)]
    for k in pos:
        xpow = (n - 1 - k) % 255
        xinv = EXP[(255 - xpow) % 255]
        den = _poly_eval(deriv, xinv)
        if den == 0:
            return -1
        num = mul(EXP[xpow], _poly_eval(omega, xinv))
        block[k] ^= mul(num, EXP[255 - LOG[den]])
    if _syndromes(block, nsym) is not None:
        return -1
    return ll


def bch_nearest(value, data_bits, gen, gen_bits, xor, max_dist):
    """The data of the valid BCH codeword nearest to `value` (within max_dist bits), or -1."""
    best = -1
    best_d = max_dist + 1
    for data in range(1 << data_bits):
        code = bch_encode(data, data_bits, gen, gen_bits) ^ xor
        diff = code ^ value
        d = 0
        while diff:
            diff &= diff - 1
            d += 1
        if d < best_d:
            best_d = d
            best = data
    return best


def bch_encode(data, data_bits, gen, gen_bits):
    """data followed by the BCH remainder of data * x^(gen_bits - 1) modulo gen."""
    shift = gen_bits - 1
    rem = data << shift
    for i in range(data_bits + shift - 1, shift - 1, -1):
        if rem >> i & 1:
            rem ^= gen << (i - shift)
    return (data << shift) | rem
