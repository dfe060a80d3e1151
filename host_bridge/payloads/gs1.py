"""GS1 element strings (medicine packs): application identifiers 01 GTIN, 17 expiry, 10 lot, 21 serial.

Accepts the forms a reader delivers: raw with GS separators, with a symbology identifier
(]d2, ]Q3, ]C1) or a leading FNC1 as GS, and the human-readable "(01)...(17)..." form.
"""

from __future__ import annotations

import re

GS = "\x1d"
# AI -> (name, fixed length or None for variable, max length)
AIS: dict[str, tuple[str, int | None, int]] = {
    "01": ("gtin", 14, 14),
    "17": ("expiry", 6, 6),
    "11": ("production_date", 6, 6),
    "10": ("lot", None, 20),
    "21": ("serial", None, 20),
}
_HRI = re.compile(r"\(([0-9]{2,4})\)([^()]*)")


class ElementStringError(ValueError):
    """The payload claims to be GS1 but its element string cannot be split."""


def strip_prefix(text: str) -> str:
    """Drop the symbology identifier or leading FNC1 that some readers prepend."""
    for prefix in ("]d2", "]Q3", "]C1", "]e0"):
        if text.startswith(prefix):
            return text[len(prefix):]
    return text.lstrip(GS)


def parse(text: str) -> dict[str, str]:
    """Split an element string into {ai: value}; raises ElementStringError with a readable reason."""
    text = strip_prefix(text)
    if text.startswith("("):
        pairs = _HRI.findall(text)
        if "".join(f"({a}){v}" for a, v in pairs) != text:
            raise ElementStringError("GS1 : forme lisible mal formée")
        found: dict[str, str] = {}
        for ai, value in pairs:
            if ai not in AIS:
                raise ElementStringError(f"GS1 : identifiant d'application ({ai}) non pris en charge")
            found[ai] = value
        return found
    out: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        ai = text[pos:pos + 2]
        if ai not in AIS:
            raise ElementStringError(f"GS1 : identifiant d'application {ai!r} en position {pos} non pris en charge")
        if ai in out:
            raise ElementStringError(f"GS1 : identifiant d'application {ai} présent deux fois")
        _, fixed, maximum = AIS[ai]
        pos += 2
        if fixed:
            value = text[pos:pos + fixed]
            pos += fixed
            if len(value) != fixed:
                raise ElementStringError(f"GS1 ({ai}) : {fixed} caractères attendus")
            if text[pos:pos + 1] == GS:
                pos += 1
        else:
            end = text.find(GS, pos)
            end = len(text) if end < 0 else end
            value = text[pos:end]
            pos = end + 1
            if not value or len(value) > maximum:
                raise ElementStringError(f"GS1 ({ai}) : 1 à {maximum} caractères attendus")
        out[ai] = value
    return out
