"""What the keyboard wedge must type for a read, restated from its documented rules (docs/firmware.md, HID):
UTF-8 text of at most 512 bytes; GS, RS and US shown as <GS>, <RS>, <US>; any other control or invisible
formatting character, or a character the layout has no keys for, refuses the whole read (None)."""

from __future__ import annotations

import unicodedata

from firmware import keymaps

SEPARATORS = {"\x1d": "<GS>", "\x1e": "<RS>", "\x1f": "<US>"}


def wedge_text(payload: bytes, layout: str = "azerty", max_len: int = 512) -> str | None:
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        return None
    table = keymaps.LAYOUTS[layout]()
    if len(payload) > max_len or any(ch not in SEPARATORS and (unicodedata.category(ch) in ("Cc", "Cf")
                                                               or ch not in table) for ch in text):
        return None
    return "".join(SEPARATORS.get(ch, ch) for ch in text)
