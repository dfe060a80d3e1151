# Keyboard layouts for the HID output: character -> keystrokes (HID usage, modifier bits).
# MicroPython has US usage codes only; the French tables are ours, checked in the tests against libxkbcommon's
# `fr` layout. "azerty" is Windows' "Français (France)": é è ç à ù ² have keys of their own, â ê î ô û and
# ä ë ï ö ü ÿ come from the ^ and ¨ dead keys, and ~ ` (AltGr+2, AltGr+7) are dead keys typed with a space.
# "azerty-linux" is X11/Wayland's `fr`, where AltGr+2 and AltGr+7 type ~ and ` directly, and the dead acute
# (AltGr+,) and grave (AltGr+*) give the capitals É È À Ù...
SHIFT = 0x02
LEFT_ALT = 0x04     # held through a Windows Alt+numpad code
ALTGR = 0x40
SPACE = 0x2C
ENTER = 0x28
TAB = 0x2B
KEYPAD = (0x62, 0x59, 0x5A, 0x5B, 0x5C, 0x5D, 0x5E, 0x5F, 0x60, 0x61)   # keypad 0..9

# Windows-1252 (the ANSI code page of French Windows) for 0x80-0x9F; 0xA0-0xFF is Latin-1, as in Unicode.
CP1252_HIGH = "€\x00‚ƒ„…†‡ˆ‰Š‹Œ\x00Ž\x00\x00‘’“”•–—˜™š›œ\x00žŸ"


def _letters(table, swap):
    for i in range(26):
        c = chr(97 + i)
        code = swap.get(c, 0x04 + i)
        table[c] = ((code, 0),)
        table[c.upper()] = ((code, SHIFT),)


def _row(table, codes, chars, mod):
    for code, ch in zip(codes, chars):
        if ch != "\x00":
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


def azerty(windows=True):
    t = {" ": ((SPACE, 0),)}
    # AZERTY letters sit on the US keys q<->a, w<->z, and m on the US ';' key
    _letters(t, {"a": 0x14, "q": 0x04, "z": 0x1A, "w": 0x1D, "m": 0x33})
    _row(t, DIGIT_KEYS, "&é\"'(-è_çà", 0)
    _row(t, DIGIT_KEYS, "1234567890", SHIFT)
    _row(t, DIGIT_KEYS, "\x00\x00#{[|\x00\\^@", ALTGR)
    _row(t, [0x2D, 0x2E, 0x30, 0x31, 0x34, 0x10, 0x36, 0x37, 0x38, 0x64, 0x35], ")=$*ù,;:!<²", 0)
    _row(t, [0x2D, 0x2E, 0x30, 0x31, 0x34, 0x10, 0x36, 0x37, 0x38, 0x64], "°+£µ%?./§>", SHIFT)
    _row(t, [0x2D, 0x2E, 0x30, 0x08], "]}¤€", ALTGR)
    circumflex, diaeresis = (0x2F, 0), (0x2F, SHIFT)      # the dead keys right of P
    for plain, accented in (("aeiou", "âêîôû"), ("AEIOU", "ÂÊÎÔÛ")):
        for p, a in zip(plain, accented):
            t[a] = (circumflex,) + t[p]
    for plain, accented in (("aeiouy", "äëïöüÿ"), ("AEIOU", "ÄËÏÖÜ")):
        for p, a in zip(plain, accented):
            t[a] = (diaeresis,) + t[p]
    # no "¨" alone: dead ¨ + space types it on Windows but '"' with X11's Compose table; hid_fallback applies
    if windows:     # É È À Ç... have no key on Windows: hid_fallback "alt" types them as Alt codes
        t["~"] = ((0x1F, ALTGR), (SPACE, 0))    # dead tilde + space
        t["`"] = ((0x24, ALTGR), (SPACE, 0))    # dead grave + space
        return t
    t["~"] = ((0x1F, ALTGR),)
    t["`"] = ((0x24, ALTGR),)
    acute, grave = (0x10, ALTGR), (0x31, ALTGR)     # X11 fr: dead acute on AltGr+, and dead grave on AltGr+*
    for dead, accented in ((acute, "ÁÉÍÓÚÝ"), (grave, "ÀÈÌÒÙ")):
        for p, a in zip("AEIOUY", accented):
            t[a] = (dead,) + t[p]
    return t


def cp1252(ch):
    """The Windows-1252 code of `ch` (what Alt+0NNN types on French Windows), or None."""
    n = ord(ch)
    if 0xA0 <= n <= 0xFF:
        return n
    i = CP1252_HIGH.find(ch)
    return 0x80 + i if i >= 0 and ch != "\x00" else None


def alt_code(ch):
    """Windows Alt+numpad keystrokes for `ch` (Alt held, keypad 0 then the three digits), or None."""
    n = cp1252(ch)
    if n is None:
        return None
    return tuple((KEYPAD[int(d)], LEFT_ALT) for d in "0%03d" % n)


def alt_char(keys):
    """The character four Alt+keypad keystrokes type (the inverse of alt_code), or None."""
    digits = "".join(str(KEYPAD.index(code)) for code, _ in keys if code in KEYPAD)
    if len(digits) != 4 or digits[0] != "0":
        return None
    n = int(digits)
    if n >= 0xA0:
        return chr(n) if n <= 0xFF else None
    ch = CP1252_HIGH[n - 0x80] if n >= 0x80 else "\x00"
    return None if ch == "\x00" else ch


LAYOUTS = {"azerty": azerty, "azerty-linux": lambda: azerty(False), "qwerty": qwerty}
