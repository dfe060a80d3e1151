"""Valid example payloads of every kind, built with the same rules the validators check."""

from __future__ import annotations

import base64
import json

from host_bridge.payloads.validators import iso7064_mod37_36_check

NUMBER = "7K3P9QXA2M4TB8R" + iso7064_mod37_36_check("7K3P9QXA2M4TB8R")
AM, RPPS = "750712184", "10000000017"   # Luhn-valid (AP-HP FINESS-like AM number; RPPS computed)
INS_HEADER = "IS01" + "0" * 22
GS = "\x1d"


def ordonnance(number: str = NUMBER, family: str = "DUPONT", given: str = "Marie", birth: str = "1980-02-29") -> bytes:
    return f"EP1|{number}|{AM}|{RPPS}|{family}|{given}|{birth}".encode()


def apcv(family: str = "Dupont", given: str = "Marie", birth: str = "1980-02-29") -> bytes:
    claims = base64.urlsafe_b64encode(json.dumps({"v": 1, "nom": family, "prenom": given, "dn": birth}).encode()).rstrip(b"=")
    return b"APCV1." + claims + b".c2lnbmF0dXJl"


def amc(validity: str = "20260101-20271231") -> bytes:
    return f"AMC1|12345678|SP|A1|M00042|{validity}".encode()


def ins(nir: str = "253072A07300443") -> bytes:
    return (f"{INS_HEADER}S1{nir}S21.2.250.1.213.1.4.8{GS}S3MARIE CLAIRE{GS}S4DUPONT{GS}"
            "S5FS629-02-1980S775056").encode()


def gs1(expiry: str = "281231") -> bytes:
    return f"010950600013435217{expiry}10LOT42{GS}21SN123".encode()
