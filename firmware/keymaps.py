# Keyboard layouts for the HID output: character -> keystrokes (HID usage, modifier bits).
# MicroPython has US usage codes only; the French AZERTY table is ours (tests check it against an
# independent description of the layout). Dead keys (~ and ` on AZERTY) are typed as dead key + space.
SHIFT = 0x02
ALTGR = 0x40
SPACE = 0x2C
ENTER = 0x28
TAB = 0x2B


def _letters(table, swap):
    for i in range(26):
        c = chr(97 + i)
        code = swap.get(c, 0x04 + i)
        table[c] = ((code, 0),)
        table[c.upper()] = ((code, SHIFT),)


def _row(table, codes, chars, mod):
    for code, ch in zip(codes, chars):
        if ch != " ":
            table[ch] = ((code, mod),)


DIGIT_KEYS = list(range(0x1E, 0x28))    # keys 1..9, 0


def qwerty():
    t = {" ": ((SPACE, 0),)}
    _letters(t, {})
    _row(t, DIGIT_KEYS, "1234567890", 0)
    _row(t, DIGIT_KEYS, "!@#$%^&*()", SHIFT)
    _row(t, [0x2D, 0x2E, 0x2F, 0x30, 0x31, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38], "-=[]\\;'`,./", 0)
    _row(t, [0x2D, 0x2E, 0x2F, 0x30, 0x31, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38], "_+{}|:\"~<>?", SHIFT)
    return t


def azerty():
    t = {" ": ((SPACE, 0),)}
    # AZERTY letters sit on the US keys q<->a, w<->z, and m on the US ';' key
    _letters(t, {"a": 0x14, "q": 0x04, "z": 0x1A, "w": 0x1D, "m": 0x33})
    _row(t, DIGIT_KEYS, "&\x00\"'(-\x00_\x00\x00", 0)       # é è ç à are not ASCII
    _row(t, DIGIT_KEYS, "1234567890", SHIFT)
    _row(t, DIGIT_KEYS, "\x00\x00#{[|\x00\\^@", ALTGR)
    _row(t, [0x2D, 0x2E, 0x30, 0x31, 0x10, 0x36, 0x37, 0x38, 0x64], ")=$*,;:!<", 0)
    _row(t, [0x2D, 0x2E, 0x34, 0x10, 0x36, 0x37, 0x64], "°+%?./>", SHIFT)
    _row(t, [0x2D, 0x2E], "]}", ALTGR)
    t["~"] = ((0x1F, ALTGR), (SPACE, 0))    # dead tilde + space
    t["`"] = ((0x24, ALTGR), (SPACE, 0))    # dead grave + space
    for k in [k for k in t if k == "\x00" or ord(k) > 126]:
        del t[k]
    return t


LAYOUTS = {"azerty": azerty, "qwerty": qwerty}
