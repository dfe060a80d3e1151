"""Synthetic payloads of every kind, with the fields a correct reading must find.

Identities are invented but valid (NIR keys, Luhn numbers, GTIN check digits), so the
samples exercise the validators the way real codes do. The expected fields are written
here from the generator's own values, independently of the parser that is being tested.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import random
import unicodedata
from dataclasses import dataclass, field

from host_bridge.payloads.validators import iso7064_mod37_36_check, luhn_ok, nir_key

FAMILY = ["MARTIN", "BERNARD", "DUBOIS", "THOMAS", "ROBERT", "RICHARD", "PETIT", "DURAND", "LEFÈVRE", "MOREAU",
          "GARÇON", "N'DIAYE", "LE GALL", "HÉBERT", "MÜLLER", "DA SILVA", "FAURE-DUPONT", "CHÂTELAIN"]
GIVEN = ["Marie", "Jean", "Élodie", "François", "Chloé", "Noël", "Inès", "Zoé", "Jean-Pierre", "Anaïs", "Luc", "Maëlle"]
NUMBER_ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I/O printed: they read as 1/0 when typed
GS, US = "\x1d", "\x1f"


@dataclass
class Content:
    """One code to draw: its kind, exact payload, symbology and the fields it must read as."""

    kind: str
    payload: bytes
    symbology: str                      # "qr" | "datamatrix"
    fields: dict[str, str]
    printed_code: str | None = None     # text printed under the code (e-prescription only)
    gs1: bool = False
    extra: dict[str, str] = field(default_factory=dict)


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _luhn(rng: random.Random, prefix: str, length: int) -> str:
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    return next(body + d for d in "0123456789" if luhn_ok(body + d))


def _birth(rng: random.Random) -> dt.date:
    return dt.date(1935, 1, 1) + dt.timedelta(days=rng.randrange(365 * 85))


def prescription_number(rng: random.Random) -> str:
    """15 random characters and the ISO 7064 MOD 37,36 check character."""
    body = "".join(rng.choice(NUMBER_ALPHABET) for _ in range(15))
    return body + iso7064_mod37_36_check(body)


def ordonnance(rng: random.Random) -> Content:
    number = prescription_number(rng)
    fam, giv, birth = rng.choice(FAMILY), rng.choice(GIVEN), _birth(rng).isoformat()
    am, rpps = _luhn(rng, "", 9), _luhn(rng, "10", 11)
    text = f"EP1|{number}|{am}|{rpps}|{fam}|{giv}|{birth}"
    fields = {"prescription_number": number, "prescriber_am": am, "prescriber_rpps": rpps,
              "patient_family_name": fam, "patient_given_names": giv, "patient_birth_date": birth}
    printed = " ".join(number[i:i + 4] for i in range(0, 16, 4))
    return Content("ordonnance", text.encode(), "qr", fields, printed_code=printed)


def apcv(rng: random.Random) -> Content:
    fam, giv, birth = rng.choice(FAMILY), rng.choice(GIVEN), _birth(rng).isoformat()
    claims = {"v": 1, "nom": fam, "prenom": giv, "dn": birth, "n": rng.getrandbits(64)}
    b64 = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()  # noqa: E731
    token = f"APCV1.{b64(json.dumps(claims, ensure_ascii=False).encode())}.{b64(rng.randbytes(32))}"
    fields = {"token": token, "beneficiary_family_name": fam, "beneficiary_given_names": giv, "beneficiary_birth_date": birth}
    return Content("apcv", token.encode(), "qr", fields)


def amc(rng: random.Random, today: dt.date) -> Content:
    start = today - dt.timedelta(days=rng.randrange(20, 300))
    end = dt.date(today.year + 2, 12, 31)
    values = {"amc_number": "".join(rng.choice("0123456789") for _ in range(rng.choice((8, 9, 10)))),
              "convention_type": rng.choice(["SP", "IS", "SV", "TP"]),
              "routing_criterion": "".join(rng.choice("ABCDEFGH0123456789") for _ in range(rng.randint(1, 6))),
              "member_number": "".join(rng.choice("0123456789ABCDEFGHJK") for _ in range(rng.randint(6, 14))),
              "validity": f"{start:%Y%m%d}-{end:%Y%m%d}"}
    return Content("amc", ("AMC1|" + "|".join(values.values())).encode(), "datamatrix", values)


def _nir(rng: random.Random, sex: str, birth: dt.date) -> tuple[str, str]:
    dept = rng.choice(["75", "69", "13", "2A", "2B", "59", "33", "99"])
    place = dept + f"{rng.randrange(1, 999):03d}" if dept != "99" else "99" + f"{rng.randrange(100, 500):03d}"
    body = ("1" if sex == "M" else "2") + f"{birth:%y%m}" + place + f"{rng.randrange(1, 999):03d}"
    return body + f"{nir_key(body):02d}", place


def ins(rng: random.Random) -> Content:
    sex, birth = rng.choice("MF"), _birth(rng)
    number, place = _nir(rng, sex, birth)
    given = " ".join(rng.sample([_ascii(g.upper()) for g in GIVEN], rng.randint(1, 3)))
    fam = _ascii(rng.choice(FAMILY))  # INS traits are upper case without diacritics
    oid = rng.choice(["1.2.250.1.213.1.4.8", "1.2.250.1.213.1.4.10"])
    oid_end = GS if len(oid) < 20 else ""  # ANS v2.2: no GS after a field at its maximum length (S2: 20)
    text = (f"IS01{'0' * 22}S1{number}S2{oid}{oid_end}S3{given}{GS}S4{fam}{GS}S5{sex}S6{birth:%d-%m-%Y}S7{place}")
    fields = {"ins_number": number, "ins_oid": oid, "patient_given_names": given, "patient_family_name": fam,
              "patient_sex": sex, "patient_birth_date": birth.isoformat(), "patient_birthplace": place}
    return Content("ins", text.encode("ascii"), "datamatrix", fields)


def gs1(rng: random.Random, today: dt.date) -> Content:
    body = "03400" + "".join(rng.choice("0123456789") for _ in range(8))
    check = (10 - sum((3 if i % 2 == 0 else 1) * int(d) for i, d in enumerate(reversed(body))) % 10) % 10
    gtin = body + str(check)
    expiry = today + dt.timedelta(days=rng.randrange(900, 2000))
    lot = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ0123456789") for _ in range(rng.randint(4, 10)))
    serial = "".join(rng.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(rng.randint(8, 16)))
    fields = {"gtin": gtin, "expiry": f"{expiry:%y%m%d}", "lot": lot, "serial": serial, "cip13": gtin[1:]}
    hri = f"(01){gtin}(17){expiry:%y%m%d}(10){lot}(21){serial}"
    raw = f"01{gtin}17{expiry:%y%m%d}10{lot}{GS}21{serial}"
    return Content("gs1", raw.encode(), "datamatrix", fields, gs1=True, extra={"hri": hri})


def twoddoc(rng: random.Random, today: dt.date) -> Content:
    days = (today - dt.date(2000, 1, 1)).days - rng.randrange(1, 400)
    fam, giv = _ascii(rng.choice(FAMILY)), rng.choice(["JEAN", "MARIE", "LUC", "ZOE"])
    head = f"DC04FR03{rng.choice(['AV01', 'CE02', 'FR00'])}{days:04X}{days:04X}01A1FR"
    town = rng.choice(["PARIS", "LYON", "LILLE", "NANTES"])
    postcode = f"{rng.randrange(1000, 95999):05d}"
    msg = f"12{giv}{GS}13{fam}{GS}24{postcode}25{town}{GS}26FR"
    sig = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _ in range(52))
    date = (dt.date(2000, 1, 1) + dt.timedelta(days=days)).isoformat()
    fields = {"version": "04", "document_type": "01", "issue_date": date, "beneficiary_given_names": giv,
              "beneficiary_family_name": fam, "service_postcode": postcode, "service_town": town}
    return Content("2ddoc", (head + msg + US + sig).encode(), "datamatrix", fields)


def unrelated(rng: random.Random) -> Content:
    if rng.random() < 0.6:
        text = f"https://www.{rng.choice(['example.fr', 'pharmacie-du-centre.fr', 'ameli.fr'])}/{rng.getrandbits(40):x}"
    else:
        text = f"WIFI:T:WPA;S:Officine-{rng.randrange(100)};P:{rng.getrandbits(48):x};;"
    return Content("unknown", text.encode(), "qr", {})


ANCHOR = dt.date(2026, 1, 1)  # fixed, so a seed gives the same samples any day (validity runs to ANCHOR + 2 years)
KIND_WEIGHTS = {"ordonnance": 30, "apcv": 15, "amc": 12, "ins": 12, "gs1": 12, "2ddoc": 5, "unknown": 14}


def make(kind: str, rng: random.Random, today: dt.date) -> Content:
    """A payload of `kind` drawn from `rng` (dates relative to `today`, so attestations are valid)."""
    if kind in ("amc", "gs1", "2ddoc"):
        return {"amc": amc, "gs1": gs1, "2ddoc": twoddoc}[kind](rng, today)
    return {"ordonnance": ordonnance, "apcv": apcv, "ins": ins, "unknown": unrelated}[kind](rng)
