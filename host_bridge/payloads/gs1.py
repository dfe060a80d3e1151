"""GS1 element strings on medicine packs, read with `biip` (the full GS1 AI table, character set and formats).

This module is the thin French layer: it accepts the forms a reader delivers (raw with GS separators,
a symbology identifier ]d2/]Q3/]C1/]e0 or a leading FNC1 as GS, the human-readable "(01)...(17)..." form),
hands each element to biip, and turns biip's refusals into reasons a pharmacist can read.
"""

from __future__ import annotations

import re

from biip import ParseConfig, ParseError
from biip.gs1_application_identifiers import GS1ApplicationIdentifier
from biip.gs1_element_strings import GS1ElementString

GS = "\x1d"
# Dates are left to the profile's validator (a bad expiry is a field warning, not an unreadable code).
_CONFIG = ParseConfig(gs1_element_strings_verify_date=False, separator_chars=[GS])
_HRI = re.compile(r"\(([0-9]{2,4})\)([^()]*)")
_CSET82 = re.compile(r"[!\"%-?A-Z_a-z]")        # GS1 General Specifications, character set 82
_VARIABLE = re.compile(r"^N\d\+[XN]\.\.(\d+)$")  # "N2+X..20": one variable-length field of at most 20
_FIXED = re.compile(r"^N\d\+N(\d+)$")             # "N2+N14": one fixed-length numeric field
FRENCH = {"01": "GTIN", "10": "lot", "11": "date de fabrication", "17": "date de péremption", "21": "numéro de série",
          "240": "identification complémentaire", **{f"71{n}": "numéro national de remboursement" for n in range(7)}}


def _title(ai: GS1ApplicationIdentifier) -> str:
    """How a message names the element: French for the AIs of drug packs, GS1's data title otherwise."""
    return FRENCH.get(ai.ai, ai.data_title)


class ElementStringError(ValueError):
    """The payload claims to be GS1 but its element string cannot be split."""


def strip_prefix(text: str) -> str:
    """Drop the symbology identifier or leading FNC1 that some readers prepend."""
    for prefix in ("]d2", "]Q3", "]C1", "]e0"):
        if text.startswith(prefix):
            return text[len(prefix):]
    return text.lstrip(GS)


def _character(ch: str) -> str:
    if ch == " ":
        return "une espace"
    return f"le caractère {ch!r}" if ch.isprintable() else f"le caractère U+{ord(ch):04X}"


def _element(rest: str, pos: int, *, whole: bool) -> GS1ElementString:
    """The element string at the start of `rest` (all of `rest` when `whole`: one HRI element)."""
    try:
        ai = GS1ApplicationIdentifier.extract(rest)
    except ParseError:
        raise ElementStringError(f"GS1 : pas d'identifiant d'application connu en position {pos} ({rest[:4]!r})") from None
    field = rest[len(ai.ai):] if whole else rest[len(ai.ai):].split(GS, 1)[0]
    variable = _VARIABLE.match(ai.format)
    if ai.separator_required:
        bad = next((ch for ch in field if not _CSET82.match(ch)), None)
        if bad is not None:
            raise ElementStringError(f"GS1 ({ai.ai}) {_title(ai)} : {_character(bad)} n'est pas dans "
                                     "le jeu de caractères GS1 (lettres, chiffres et ponctuation simple, sans espace)")
        if variable and len(field) > int(variable.group(1)):
            raise ElementStringError(f"GS1 ({ai.ai}) {_title(ai)} : {len(field)} caractères sans séparateur GS, "
                                     f"{variable.group(1)} au plus")
    try:
        return (GS1ElementString.parse if whole else GS1ElementString.extract)(rest, config=_CONFIG)
    except ParseError:
        fixed = _FIXED.match(ai.format)
        shown = field[:int(fixed.group(1))] if fixed else field
        raise ElementStringError(f"GS1 ({ai.ai}) {_title(ai)} : {shown!r} ne suit pas le format {ai.format}") from None


def parse(text: str) -> dict[str, str]:
    """Split an element string into {ai: value} in payload order; raises ElementStringError with a French reason."""
    text = strip_prefix(text)
    elements: list[GS1ElementString] = []
    if text.startswith("("):
        pairs = _HRI.findall(text)
        if "".join(f"({a}){v}" for a, v in pairs) != text:
            raise ElementStringError("GS1 : forme lisible mal formée")
        for ai, value in pairs:
            element = _element(ai + value, 0, whole=True)
            if element.ai.ai != ai:
                raise ElementStringError(f"GS1 : ({ai}) n'est pas un identifiant d'application connu")
            elements.append(element)
    else:
        pos = 0
        while pos < len(text):
            element = _element(text[pos:], pos, whole=False)
            elements.append(element)
            pos += len(element)
            while text[pos:pos + 1] == GS:  # a separator is allowed after any element (GS1 GenSpecs 7.8.6)
                pos += 1
    out: dict[str, str] = {}
    for element in elements:
        if out.get(element.ai.ai, element.value) != element.value:
            raise ElementStringError(f"GS1 : identifiant d'application {element.ai.ai} présent deux fois, "
                                     "avec des valeurs différentes")
        out[element.ai.ai] = element.value
    return out


def hri(elements: dict[str, str]) -> str:
    """The human-readable form "(ai)value..." of elements."""
    return "".join(f"({ai}){value}" for ai, value in elements.items())
