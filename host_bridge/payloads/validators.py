"""Check digits and formats of the identifiers found in counter payloads.

Each validator takes the field's text and returns None when it is valid, else a short
reason a pharmacist can read. The check-digit arithmetic (NIR key, Luhn, GS1 mod 10,
ISO 7064 MOD 37,36, SIREN/SIRET) is python-stdnum's; this module adds the French messages
and the NIR structure rules stdnum leaves out. `electeur bench peers` cross-checks them.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Callable

from stdnum import ean, luhn
from stdnum.exceptions import InvalidChecksum, ValidationError
from stdnum.fr import nir as stdnum_nir, siren as stdnum_siren, siret as stdnum_siret
from stdnum.iso7064 import mod_37_36

Validator = Callable[[str], "str | None"]

ALNUM36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def ascii_digits(value: str) -> bool:
    """True for a non-empty run of 0-9 only: str.isdigit() also accepts superscripts and other
    scripts' digits, which int() then rejects or reads as a different number."""
    return value.isascii() and value.isdigit()


def luhn_ok(digits: str) -> bool:
    """Luhn (mod 10) check over an ASCII digit string, check digit last."""
    return ascii_digits(digits) and luhn.is_valid(digits)


def _number(name: str, length: int, rule: object, key: str = "clé de contrôle (Luhn)") -> Validator:
    """A fixed-length digit number whose check is python-stdnum's `rule.is_valid`."""
    def check(value: str) -> str | None:
        if len(value) != length or not ascii_digits(value):
            return f"{name} : {length} chiffres attendus"
        return None if rule.is_valid(value) else f"{name} : {key} fausse"  # type: ignore[attr-defined]
    check.__doc__ = f"{name}: {length} digits, {key}."
    return check


rpps = _number("numéro RPPS", 11, luhn)
am_number = _number("numéro AM", 9, luhn)
finess = _number("numéro FINESS", 9, luhn)
siren = _number("numéro SIREN", 9, stdnum_siren)
siret = _number("numéro SIRET", 14, stdnum_siret, "clé de contrôle")  # La Poste's establishments: digit sum


def nir_key(nir13: str) -> int:
    """The 2-digit key of a 13-character NIR: 97 - (number mod 97), Corsica's 2A read as 19 and 2B as 18."""
    return int(stdnum_nir.calc_check_digits(nir13.upper()))


# What the NIR's structure allows beyond the key (INSEE rules as published, e.g. the French Wikipedia
# article python-stdnum cites): first digit 1/2 (sex), 3/4 (foreigners being registered), 7/8 (NIA,
# temporary number awaiting a NIR); month 01-12, 20-42 (pseudo-months for an unknown or incomplete
# birth month) or 50-99. stdnum checks only length, characters and key, so it accepts the rest.
NIR_FIRST_DIGITS = "123478"
_NIR_SHAPE = re.compile(r"^[0-9]{5}([0-9]{2}|2A|2B)[0-9]{8}$")


def nir_month_ok(month: int) -> bool:
    """A real month, or one of the NIR's pseudo-months (20-42, 50-99)."""
    return 1 <= month <= 12 or 20 <= month <= 42 or month >= 50


def nir(value: str) -> str | None:
    """NIR / NIA (the INS number): 13 characters (2A/2B for Corsica) and a 2-digit key, with the
    first digit and month the INSEE rules allow (see NIR_FIRST_DIGITS, nir_month_ok)."""
    v = value.upper().replace(" ", "")
    if not _NIR_SHAPE.match(v):
        return "le NIR doit avoir 15 caractères : numéro de 13 caractères (2A/2B pour la Corse) et clé de 2 chiffres"
    if v[0] not in NIR_FIRST_DIGITS:
        return f"le NIR ne peut pas commencer par {v[0]} (1 ou 2, 3 ou 4, 7 ou 8 pour un numéro d'attente)"
    if not nir_month_ok(int(v[3:5])):
        return f"mois {v[3:5]} impossible dans un NIR (01 à 12, ou 20 à 42 et 50 à 99 pour un mois inconnu)"
    try:
        stdnum_nir.validate(v)
    except InvalidChecksum:
        return "la clé du NIR ne correspond pas au numéro"
    except ValidationError:
        return "le NIR doit avoir 15 caractères : numéro de 13 caractères (2A/2B pour la Corse) et clé de 2 chiffres"
    return None


def gtin(value: str) -> str | None:
    """GTIN-8/12/13/14 with the GS1 mod-10 check digit (CIP13 is a GTIN-13 starting 340)."""
    if not ascii_digits(value) or len(value) not in (8, 12, 13, 14):
        return "le GTIN doit avoir 8, 12, 13 ou 14 chiffres"
    return None if ean.is_valid(value) else "clé de contrôle du GTIN fausse"


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
    """ISO/IEC 7064 MOD 37,36 check character over 0-9A-Z. It catches every single substitution but
    not every adjacent swap (about 1 in 800 passes): `electeur bench checkchar` measures the rates."""
    return str(mod_37_36.calc_check_digit(body, ALNUM36))


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
    """Sex as the Datamatrix INS carries it: M or F (INSi delivers only these; "I" cannot be encoded)."""
    return None if value in ("M", "F") else "sexe attendu : M ou F"


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
    "nir": nir, "rpps": rpps, "am": am_number, "finess": finess, "siren": siren, "siret": siret, "gtin": gtin,
    "date": date_iso, "date_dmy": date_dmy, "yymmdd": yymmdd, "prescription_number": prescription_number,
    "digits": digits, "alnum": alnum, "sex": sex, "insee_place": insee_place, "oid": oid, "name": name,
    "period": period, "token": token, "text": any_text,
}
