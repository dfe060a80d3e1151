"""Apply a profile to a payload: split it by the profile's grammar, then check every field.

Never raises on bad input: every problem becomes an Issue (error or warning) on the
result, so one read always yields one lookup.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
from dataclasses import dataclass, field

from host_bridge.payloads import gs1, twoddoc
from host_bridge.payloads.issues import Issue
from host_bridge.payloads.profiles import FieldSpec, Profile
from host_bridge.payloads.schema import Severity
from host_bridge.payloads.validators import VALIDATORS, gs1_date

GS, RS, US = "\x1d", "\x1e", "\x1f"
_DI = re.compile(r"[0-9A-Z]{2}")
_BASE32 = re.compile(r"[A-Z2-7]+=*")


@dataclass
class Parsed:
    """Fields found in a payload (strings, dates as YYYY-MM-DD) and the problems met."""

    fields: dict[str, str] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)


class GrammarError(ValueError):
    """The payload cannot be split by its profile's grammar."""


def _delimited(profile: Profile, text: str) -> dict[str, str]:
    sep = profile.grammar.get("separator", "|")
    parts = text.split(sep)[int(profile.grammar.get("skip", 0)):]
    if len(parts) != len(profile.fields):
        raise GrammarError(f"{len(profile.fields)} champs séparés par {sep!r} attendus, {len(parts)} trouvés")
    return {spec.name: part for spec, part in zip(profile.fields, parts)}


def _di_fields(profile: Profile, text: str, result: Parsed) -> dict[str, str]:
    values: dict[str, str] = {}
    header = profile.grammar.get("header")
    if header == "2ddoc":
        try:
            head, pos = twoddoc.parse_header(text)
        except twoddoc.HeaderError as exc:
            raise GrammarError(str(exc)) from None
        for field_spec in profile.fields:
            if field_spec.header and head.get(field_spec.header) is not None:
                values[field_spec.name] = head[field_spec.header]  # type: ignore[assignment]
    else:
        literal = profile.grammar.get("header_literal", "")
        if not text.startswith(literal):
            raise GrammarError("en-tête non reconnu")
        pos = len(literal)
    message, has_signature, signature = text[pos:].partition(US)
    if profile.grammar.get("signature") == "required":
        if not has_signature:
            raise GrammarError("pas de signature (un message 2D-Doc finit par US et sa signature)")
        if not _BASE32.fullmatch(signature):
            raise GrammarError("la signature n'est pas en base32")
    if signature:
        values["signature"] = signature
    by_di = {spec.di: spec for spec in profile.fields if spec.di}
    truncated = []
    i = 0
    while i < len(message):
        di = message[i:i + 2]
        spec = by_di.get(di)
        if spec is None and not _DI.fullmatch(di):
            raise GrammarError(f"{di!r} en position {pos + i} n'est pas un identifiant de donnée : message corrompu")
        if spec is None:
            severity: Severity = "error" if profile.grammar.get("strict", True) else "warning"
            result.issues.append(Issue("unknown_identifier", f"identifiant de donnée {di!r} absent du profil ; "
                                       "la suite du message est gardée dans 'unparsed'", severity))
            values["unparsed"] = message[i:]
            break
        i += 2
        value, i, cut = _di_value(message, i, spec)
        if cut:
            truncated.append(di)
        elif spec.length and len(value) < spec.length and spec.validator == "text":  # else its validator says why
            result.issues.append(Issue("invalid_field", f"{spec.label} : {spec.length} caractères attendus, "
                                       f"{len(value)} lus", spec.severity, spec.name))
        if spec.name in values:
            raise GrammarError(f"identifiant de donnée {di} présent deux fois")
        values[spec.name] = value
    if truncated:
        values["truncated"] = ",".join(truncated)
    return values


def _di_value(message: str, i: int, spec: FieldSpec) -> tuple[str, int, bool]:
    """One field's value from position i: (value, position after it, cut short by RS).

    A fixed-length field is `length` characters; a variable one ends with GS, or at its maximum
    length with no GS (a GS found there anyway is skipped). RS ends a field cut short (2D-Doc)."""
    limit = min(len(message), i + (spec.length or spec.max or len(message)))
    ends = [k for k in (message.find(RS, i, limit), message.find(GS, i, limit) if not spec.length else -1) if k >= 0]
    if ends:
        end = min(ends)
        return message[i:end], end + 1, message[end] == RS
    after = limit + 1 if not spec.length and message[limit:limit + 1] == GS else limit
    return message[i:limit], after, False


def _gs1(profile: Profile, text: str) -> dict[str, str]:
    try:
        elements = gs1.parse(text)
    except gs1.ElementStringError as exc:
        raise GrammarError(str(exc)) from None
    gtin = elements.get("01", "")
    values = {spec.name: elements.pop(spec.ai) for spec in profile.fields if spec.ai in elements}
    if gtin.startswith("03400"):
        values["cip13"] = gtin[1:]  # French medicines: CIP13 is the GTIN-13 inside the GTIN-14
    if elements:
        values["gs1_other"] = gs1.hri(elements)  # valid AIs the profile does not name: kept, never an error
    return values


def _jws(profile: Profile, text: str) -> dict[str, str]:
    segments = text.split(".")
    if len(segments) != int(profile.grammar.get("segments", 3)):
        raise GrammarError(f"le jeton doit avoir {profile.grammar.get('segments', 3)} segments séparés par des points")
    values = {spec.name: text for spec in profile.fields if spec.whole}
    try:
        claims = json.loads(base64.urlsafe_b64decode(segments[1] + "=" * (-len(segments[1]) % 4)))
    except (binascii.Error, ValueError):
        return values  # opaque to us: the token still goes to the authentication service unchanged
    if isinstance(claims, dict):
        for spec in profile.fields:
            if spec.claim and isinstance(claims.get(spec.claim), (str, int)):
                values[spec.name] = str(claims[spec.claim])
    return values


def _check(spec: FieldSpec, value: str, today: dt.date, result: Parsed) -> None:
    if spec.normalise == "upper":
        value = value.upper()
    elif spec.normalise == "strip":
        value = value.strip()
    problem = None
    if spec.pattern and not re.fullmatch(spec.pattern, value):
        problem = f"{spec.label} : format inattendu"
    problem = problem or (f"{spec.label} : {msg}" if (msg := VALIDATORS[spec.validator](value)) else None)
    if problem:
        result.issues.append(Issue("invalid_field", problem, spec.severity, spec.name))
        result.fields[spec.name] = value
        return
    if spec.to_iso:
        value = dt.datetime.strptime(value, spec.to_iso).date().isoformat()
    result.fields[spec.name] = value
    if spec.check == "valid_on_read":
        start, end = (dt.datetime.strptime(v, "%Y%m%d").date() for v in value.split("-"))
        if not start <= today <= end:
            word = "pas encore en vigueur" if today < start else "expirée"
            result.issues.append(Issue("not_valid_today", f"{spec.label} : {word} le {today:%d/%m/%Y}",
                                       "warning", spec.name))
    elif spec.check == "not_expired":
        expiry = gs1_date(value) if spec.validator == "yymmdd" else dt.date.fromisoformat(value)
        if expiry and expiry < today:
            result.issues.append(Issue("expired", f"{spec.label} : expirée le {expiry:%d/%m/%Y}", "warning", spec.name))


def apply(profile: Profile, text: str, today: dt.date) -> Parsed:
    """Split `text` with the profile's grammar and validate each field against its rule."""
    result = Parsed()
    grammar = profile.grammar.get("type", "none")
    try:
        if grammar == "delimited":
            raw = _delimited(profile, text)
        elif grammar == "di_fields":
            raw = _di_fields(profile, text, result)
        elif grammar == "gs1":
            raw = _gs1(profile, text)
        elif grammar == "jws":
            raw = _jws(profile, text)
        else:
            raw = {}
    except GrammarError as exc:
        result.issues.append(Issue("malformed", f"{profile.title} : {exc}", "error"))
        return result
    for extra in ("signature", "unparsed", "truncated", "cip13", "gs1_other"):
        if extra in raw:
            result.fields[extra] = raw.pop(extra)
    for spec in profile.fields:
        value = raw.get(spec.name)
        if value is None or value == "":
            if spec.required:
                result.issues.append(Issue("missing_field", f"{spec.label} : absent", spec.severity, spec.name))
            continue
        _check(spec, value, today, result)
    return result
