"""A French AZERTY computer reading the keystrokes of the reader's USB keyboard: libxkbcommon (the library
Wayland and X11 clients type with) with the xkb-data `fr` layout and the X11 Compose table for dead keys,
through ctypes (no headers needed: Debian's libxkbcommon0, xkb-data and libx11-data).

HID usages become Linux evdev key codes with the kernel's own table (drivers/hid/hid-input.c, `hid_keyboard`;
xkb key code = evdev + 8). `windows=True` gives Windows' "Français (France)" instead: the same keys, except
that AltGr+2 and AltGr+7 are dead keys (~ and `), and Alt held over keypad digits 0NNN types character NNN of
Windows-1252 when Alt is released (Windows' Alt codes, decoded with Python's cp1252 codec).
"""

from __future__ import annotations

import ctypes
import ctypes.util

# hid-input.c hid_keyboard[] for usages 0x00-0x65 (keyboard page)
HID_TO_EVDEV = [
    0, 0, 0, 0, 30, 48, 46, 32, 18, 33, 34, 35, 23, 36, 37, 38,
    50, 49, 24, 25, 16, 19, 31, 20, 22, 47, 17, 45, 21, 44, 2, 3,
    4, 5, 6, 7, 8, 9, 10, 11, 28, 1, 14, 15, 57, 12, 13, 26,
    27, 43, 43, 39, 40, 41, 51, 52, 53, 58, 59, 60, 61, 62, 63, 64,
    65, 66, 67, 68, 87, 88, 99, 70, 119, 110, 102, 104, 111, 107, 109, 106,
    105, 108, 103, 69, 98, 55, 74, 78, 96, 79, 80, 81, 75, 76, 77, 71,
    72, 73, 82, 83, 86, 127,
]
MODIFIER_KEYS = {0x01: 29, 0x02: 42, 0x04: 56, 0x08: 125, 0x10: 97, 0x20: 54, 0x40: 100, 0x80: 126}  # bit -> evdev
CONTROL = 0x01 | 0x10       # either Ctrl: a shortcut, never a character
LEFT_ALT = 0x04             # a shortcut too, except over keypad digits on Windows (an Alt code)
KEYPAD_DIGITS = {0x62: "0", 0x59: "1", 0x5A: "2", 0x5B: "3", 0x5C: "4", 0x5D: "5", 0x5E: "6", 0x5F: "7", 0x60: "8",
                 0x61: "9"}
DOWN, UP = 1, 0
COMPOSING, COMPOSED, CANCELLED = 1, 2, 3
WINDOWS_KEYS = """
    key <AE02> { [ eacute, 2, dead_tilde, oneeighth ] };
    key <AE07> { [ egrave, 7, dead_grave, seveneighths ] };
"""


def _lib() -> ctypes.CDLL:
    lib = ctypes.CDLL(ctypes.util.find_library("xkbcommon") or "libxkbcommon.so.0")
    p, i, u = ctypes.c_void_p, ctypes.c_int, ctypes.c_uint32
    for name, res, args in [
        ("xkb_context_new", p, [i]), ("xkb_keymap_new_from_string", p, [p, ctypes.c_char_p, i, i]),
        ("xkb_state_new", p, [p]), ("xkb_state_update_key", i, [p, u, i]), ("xkb_state_key_get_one_sym", u, [p, u]),
        ("xkb_state_key_get_utf8", i, [p, u, ctypes.c_char_p, ctypes.c_size_t]),
        ("xkb_keysym_get_name", i, [u, ctypes.c_char_p, ctypes.c_size_t]),
        ("xkb_compose_table_new_from_locale", p, [p, ctypes.c_char_p, i]), ("xkb_compose_state_new", p, [p, i]),
        ("xkb_compose_state_feed", i, [p, u]), ("xkb_compose_state_get_status", i, [p]),
        ("xkb_compose_state_get_utf8", i, [p, ctypes.c_char_p, ctypes.c_size_t]), ("xkb_compose_state_reset", None, [p]),
    ]:
        fn = getattr(lib, name)
        fn.restype, fn.argtypes = res, args
    return lib


class FrenchComputer:
    """Feed it key reports (usage, modifier bits); `text` is what the focused field received, `controls` the
    keys that were not characters (Enter, Tab, Escape, arrows, a Ctrl shortcut...), by keysym name."""

    def __init__(self, windows: bool = False) -> None:
        self.lib = lib = _lib()
        self.ctx = lib.xkb_context_new(0)
        extra = WINDOWS_KEYS if windows else ""
        text = (f'xkb_keymap {{ xkb_keycodes {{ include "evdev+aliases(azerty)" }}; xkb_types {{ include "complete" }};'
                f' xkb_compat {{ include "complete" }}; xkb_symbols {{ include "pc+fr+inet(evdev)" {extra} }}; }};')
        keymap = lib.xkb_keymap_new_from_string(self.ctx, text.encode(), 1, 0)
        assert keymap, "libxkbcommon could not compile the fr keymap (is xkb-data installed?)"
        self.state = lib.xkb_state_new(keymap)
        table = lib.xkb_compose_table_new_from_locale(self.ctx, b"fr_FR.UTF-8", 0) or \
            lib.xkb_compose_table_new_from_locale(self.ctx, b"en_US.UTF-8", 0)
        assert table, "no X11 Compose table (is libx11-data installed?)"
        self.compose = lib.xkb_compose_state_new(table, 0)
        self.text: list[str] = []
        self.controls: list[str] = []
        self.held = 0
        self.windows = windows
        self.alt_digits = ""

    def _name(self, sym: int) -> str:
        buf = ctypes.create_string_buffer(64)
        self.lib.xkb_keysym_get_name(sym, buf, 64)
        return buf.value.decode()

    def _modifiers(self, bits: int) -> None:
        if self.windows and self.held & LEFT_ALT and not bits & LEFT_ALT and self.alt_digits:
            if len(self.alt_digits) == 4 and self.alt_digits[0] == "0":
                self.text.append(bytes([int(self.alt_digits)]).decode("cp1252"))
            else:
                self.controls.append("Alt+" + self.alt_digits)
            self.alt_digits = ""
        for bit, code in MODIFIER_KEYS.items():
            if (bits & bit) != (self.held & bit):
                self.lib.xkb_state_update_key(self.state, code + 8, DOWN if bits & bit else UP)
        self.held = bits

    def key(self, usage: int, mods: int, keep: int = 0) -> None:
        """One key pressed with `mods` held, then released; modifiers in `keep` stay held afterwards."""
        self._modifiers(mods)
        code = HID_TO_EVDEV[usage] + 8
        self.lib.xkb_state_update_key(self.state, code, DOWN)
        sym = self.lib.xkb_state_key_get_one_sym(self.state, code)
        buf = ctypes.create_string_buffer(64)
        if self.windows and mods & LEFT_ALT and usage in KEYPAD_DIGITS:
            self.alt_digits += KEYPAD_DIGITS[usage]
        elif mods & (CONTROL | LEFT_ALT):
            self.controls.append(("Ctrl+" if mods & CONTROL else "Alt+") + self._name(sym))
        elif self.lib.xkb_compose_state_feed(self.compose, sym) == 1 and \
                self.lib.xkb_compose_state_get_status(self.compose) in (COMPOSING, COMPOSED, CANCELLED):
            status = self.lib.xkb_compose_state_get_status(self.compose)
            if status == COMPOSED:
                self.lib.xkb_compose_state_get_utf8(self.compose, buf, 64)
                self.text.append(buf.value.decode())
            if status != COMPOSING:
                self.lib.xkb_compose_state_reset(self.compose)
        else:
            self.lib.xkb_state_key_get_utf8(self.state, code, buf, 64)
            ch = buf.value.decode()
            if ch and ch.isprintable():
                self.text.append(ch)
            else:
                self.controls.append(self._name(sym))
        self.lib.xkb_state_update_key(self.state, code, UP)
        self._modifiers(keep)

    def typed(self) -> str:
        return "".join(self.text)
