"""Check digits and formats of the identifiers found in counter payloads.

Each validator takes the field's text and returns None when it is valid, else a short
reason a pharmacist can read. They follow the published rules (NIR key, Luhn, GS1 mod 10,
ISO 7064) so that a misread or mistyped identifier is caught before it reaches the LGO.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Callable

Validator = Callable[[str], "str | None"]

ALNUM36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def ascii_digits(value: str) -> bool:
    """True for a non-empty run of 0-9 only: str.isdigit() also accepts superscripts and other
    scripts' digits, which int() then rejects or reads as a different number."""
    return value.isascii() and value.isdigit()


def luhn_ok(digits: str) -> bool:
    """Luhn (mod 10) check over a digit string, check digit last."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _luhn_number(name: str, length: int) -> Validator:
    def check(value: str) -> str | None:
        if len(value) != length or not ascii_digits(value):
            return f"{name} : {length} chiffres attendus"
        if not luhn_ok(value):
            return f"{name} : clé de contrôle (Luhn) fausse"
        return None
    check.__doc__ = f"{name}: {length} digits, Luhn check digit."
    return check


rpps = _luhn_number("numéro RPPS", 11)
am_number = _luhn_number("numéro AM", 9)
finess = _luhn_number("numéro FINESS", 9)


def nir_key(nir13: str) -> int:
    """The 2-digit key of a 13-character NIR: 97 - (number mod 97), Corsica's 2A read as 19 and 2B as 18
    (the same as "20 minus 1 000 000 / 2 000 000" in the older wording)."""
    number = nir13.upper()
    number = number[:5] + {"2A": "19", "2B": "18"}.get(number[5:7], number[5:7]) + number[7:]
    return 97 - int(number) % 97


_NIR = re.compile(r"^[12378][0-9]{2}(0[1-9]|1[0-2]|[2-9][0-9])([0-9]{2}|2A|2B)[0-9]{6}[0-9]{2}$")


def nir(value: str) -> str | None:
    """NIR / INS number: sex, year, month (20-99 allowed: unknown or special month), department
    (2A/2B for Corsica), commune, order, then the key."""
    v = value.upper().replace(" ", "")
    if len(v) != 15 or not _NIR.match(v):
        return "le NIR doit avoir 15 caractères : numéro de 13 caractères (2A/2B pour la Corse) et clé de 2 chiffres"
    if int(v[13:]) != nir_key(v[:13]):
        return "la clé du NIR ne correspond pas au numéro"
    return None


def gtin(value: str) -> str | None:
    """GTIN-8/12/13/14 with the GS1 mod-10 check digit (CIP13 is a GTIN-13 starting 340)."""
    if not ascii_digits(value) or len(value) not in (8, 12, 13, 14):
        return "le GTIN doit avoir 8, 12, 13 ou 14 chiffres"
    body, check = value[:-1], int(value[-1])
    total = sum((3 if i % 2 == 0 else 1) * int(d) for i, d in enumerate(reversed(body)))
    if (10 - total % 10) % 10 != check:
        return "clé de contrôle du GTIN fausse"
    return None


def _parse_date(value: str, fmt: str) -> dt.date | None:
    if not value.isascii():  # strptime's %Y/%m/%d also match other scripts' digits
        return None
    try:
        return dt.datetime.strptime(value, fmt).date()
    except ValueError:
        return None


def date_iso(value: str) -> str | None:
    """Calendar date YYYY-MM-DD."""
    return None if _parse_date(value, "%Y-%m-%d") and len(value) == 10 else "date réelle attendue au format AAAA-MM-JJ"


def date_dmy(value: str) -> str | None:
    """Calendar date JJ-MM-AAAA (the INS birth date)."""
    return None if _parse_date(value, "%d-%m-%Y") and len(value) == 10 else "date réelle attendue au format JJ-MM-AAAA"


def gs1_date(value: str) -> dt.date | None:
    """GS1 YYMMDD date (century rule simplified to 20YY; DD=00 means the month's last day)."""
    if len(value) != 6 or not ascii_digits(value):
        return None
    year, month, day = 2000 + int(value[:2]), int(value[2:4]), int(value[4:])
    if day == 0 and 1 <= month <= 12:
        nxt = dt.date(year + month // 12, month % 12 + 1, 1)
        return nxt - dt.timedelta(days=1)
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def yymmdd(value: str) -> str | None:
    """GS1 YYMMDD date (expiry AI 17)."""
    return None if gs1_date(value) else "date réelle attendue au format AAMMJJ"


def iso7064_mod37_36_check(body: str) -> str:
    """ISO/IEC 7064 MOD 37,36 check character over 0-9A-Z: catches every single substitution and adjacent swap."""
    p = 36
    for ch in body:
        s = (p + ALNUM36.index(ch)) % 36 or 36
        p = (s * 2) % 37
    return ALNUM36[(37 - p) % 36]


def prescription_number(value: str) -> str | None:
    """Reference e-prescription number: 15 characters 0-9A-Z plus an ISO 7064 MOD 37,36 check character."""
    if len(value) != 16 or any(ch not in ALNUM36 for ch in value):
        return "le numéro d'ordonnance doit avoir 16 caractères 0-9 A-Z"
    if iso7064_mod37_36_check(value[:15]) != value[15]:
        return "caractère de contrôle du numéro d'ordonnance faux (mal lu ou mal tapé)"
    return None


def digits(value: str) -> str | None:
    """Digits only."""
    return None if ascii_digits(value) else "chiffres uniquement"


def alnum(value: str) -> str | None:
    """Letters, digits (and spaces, dashes) only."""
    return None if re.fullmatch(r"[0-9A-Za-z][0-9A-Za-z \-]*", value) else "lettres et chiffres uniquement"


def sex(value: str) -> str | None:
    """Administrative sex M, F or I."""
    return None if value in ("M", "F", "I") else "sexe attendu : M, F ou I"


def insee_place(value: str) -> str | None:
    """INSEE place code: 5 characters (department incl. 2A/2B, or 99 + country)."""
    return None if re.fullmatch(r"([0-9]{2}|2A|2B)[0-9]{3}", value.upper()) else "le code INSEE du lieu doit avoir 5 caractères"


def oid(value: str) -> str | None:
    """Dotted object identifier (the INS OID tells NIR from NIA)."""
    return None if re.fullmatch(r"[0-2](\.[0-9]+)+", value) else "l'OID doit être fait de nombres séparés par des points"


# Unicode categories that draw nothing or reorder what follows: controls, format characters (bidi
# overrides and isolates U+202A-E/U+2066-9, marks U+200E/F, zero-width characters, soft hyphen),
# line/paragraph separators, surrogates, private use and unassigned code points. In a name they
# make the name shown differ from the name in the code.
_INVISIBLE = ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn")


def name(value: str) -> str | None:
    """A person's name: printable, no control, format (bidi) or other invisible characters."""
    if not value.strip():
        return "nom vide"
    bad = next((ch for ch in value if unicodedata.category(ch) in _INVISIBLE), None)
    if bad is not None:
        return "le nom contient un caractère invisible ou de contrôle (U+%04X)" % ord(bad)
    return None


def period(value: str) -> str | None:
    """Validity period YYYYMMDD-YYYYMMDD, start not after end."""
    m = re.fullmatch(r"([0-9]{8})-([0-9]{8})", value)
    if not m:
        return "période attendue au format AAAAMMJJ-AAAAMMJJ"
    start, end = (_parse_date(g, "%Y%m%d") for g in m.groups())
    if not start or not end:
        return "les dates de la période ne sont pas des dates réelles"
    if start > end:
        return "la période commence après sa fin"
    return None


def token(value: str) -> str | None:
    """Opaque token: printable ASCII, no spaces."""
    return None if re.fullmatch(r"[\x21-\x7e]+", value) else "token must be printable ASCII without spaces"


def any_text(value: str) -> str | None:
    """Accepted as is."""
    return None


VALIDATORS: dict[str, Validator] = {
    "nir": nir, "rpps": rpps, "am": am_number, "finess": finess, "gtin": gtin,
    "date": date_iso, "date_dmy": date_dmy, "yymmdd": yymmdd, "prescription_number": prescription_number,
    "digits": digits, "alnum": alnum, "sex": sex, "insee_place": insee_place, "oid": oid, "name": name,
    "period": period, "token": token, "text": any_text,
}
