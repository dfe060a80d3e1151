"""2D-Doc header (ANTS specification, versions 01-04): the part every 2D-Doc shares.

The header says who signed (certification authority and certificate ids), when
(issue and signature dates as hexadecimal days since 2000-01-01, FFFF for none) and
what the document is (type, and for v03/v04 the perimeter and country).
"""

from __future__ import annotations

import datetime as dt
import re

EPOCH = dt.date(2000, 1, 1)
HEADER_LENGTH = {"01": 22, "02": 22, "03": 24, "04": 26}
_ID = re.compile(r"^[0-9A-Z]{4}$")


class HeaderError(ValueError):
    """The payload starts like a 2D-Doc but its header breaks the specification."""


def hex_days(value: str) -> str | None:
    """Decode a 4-hex-digit day count since 2000-01-01 into YYYY-MM-DD; FFFF means 'no date'."""
    if not re.fullmatch(r"[0-9A-F]{4}", value):
        raise HeaderError(f"date {value!r} : 4 chiffres hexadécimaux attendus")
    if value == "FFFF":
        return None
    return (EPOCH + dt.timedelta(days=int(value, 16))).isoformat()


def parse_header(text: str) -> tuple[dict[str, str | None], int]:
    """Parse the header at the start of `text`; return its fields and its length."""
    if not text.startswith("DC"):
        raise HeaderError("l'en-tête 2D-Doc doit commencer par 'DC'")
    version = text[2:4]
    if version not in HEADER_LENGTH:
        raise HeaderError(f"version 2D-Doc {version!r} inconnue (01 à 04)")
    length = HEADER_LENGTH[version]
    if len(text) < length:
        raise HeaderError(f"l'en-tête 2D-Doc v{version} a {length} caractères, {len(text)} reçus")
    head = text[:length]
    fields: dict[str, str | None] = {"version": version, "ca_id": head[4:8], "certificate_id": head[8:12]}
    for key in ("ca_id", "certificate_id"):
        if not _ID.match(fields[key] or ""):
            raise HeaderError(f"2D-Doc : {key} doit avoir 4 caractères A-Z 0-9")
    fields["issue_date"] = hex_days(head[12:16])
    fields["signature_date"] = hex_days(head[16:20])
    fields["document_type"] = head[20:22]
    if not re.fullmatch(r"[0-9A-Z]{2}", head[20:22]):
        raise HeaderError("2D-Doc : le type de document doit avoir 2 caractères A-Z 0-9")
    if version in ("03", "04"):
        fields["perimeter"] = head[22:24]
    if version == "04":
        fields["country"] = head[24:26]
        if not re.fullmatch(r"[A-Z]{2}", head[24:26]):
            raise HeaderError("2D-Doc v04 : le pays doit avoir 2 lettres")
    if fields["issue_date"] and fields["signature_date"] and fields["signature_date"] < fields["issue_date"]:
        raise HeaderError("2D-Doc : date de signature antérieure à la date d'émission")
    return fields, length
