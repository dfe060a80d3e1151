"""EpuLookup: one normalised, validated lookup per read (schema docs/schemas/epu-lookup.v1.json).

The lookup keeps the exact payload bytes, says what the pharmacist should do with the
code (`action`), and carries every problem found as a warning instead of failing.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Mapping
from typing import Any

from host_bridge.payloads.issues import Issue, status_of
from host_bridge.payloads.parse import apply
from host_bridge.payloads.profiles import Profile, Profiles, default_profiles
from host_bridge.payloads.schema import SCHEMA, EpuLookup, Source

MAX_PAYLOAD = 8192  # the largest QR holds 2953 bytes, Data Matrix 1556: anything longer is not a code read
GS = "\x1d"
_ALLOWED_CONTROLS = {GS, "\x1f"}


def lookup_id(data: bytes, source: Mapping[str, Any]) -> str:
    """Idempotency key: a pure function of (reader, read_id, bytes), or (reader, time, bytes) with no read_id,
    so a read retransmitted by the reader maps to the same lookup."""
    h = hashlib.sha256(b"electeur-lookup/1\0")
    h.update(str(source.get("reader", "")).encode("utf-8", "surrogatepass") + b"\0")
    if source.get("read_id") is not None:
        h.update(b"read_id\0" + str(source["read_id"]).encode("utf-8", "surrogatepass") + b"\0")
    else:
        h.update(b"time\0" + str(source.get("time", "")).encode("utf-8", "surrogatepass") + b"\0")
    h.update(data)
    return h.hexdigest()[:32]


def decode_text(data: bytes) -> tuple[str, bool]:
    """Payload text: UTF-8 when valid, else ISO-8859-1 (the Data Matrix default); second item says if it was UTF-8."""
    try:
        return data.decode("utf-8"), True
    except UnicodeDecodeError:
        return data.decode("latin-1"), False


def _read_date(source: Mapping[str, Any]) -> dt.date:
    try:
        return dt.datetime.fromisoformat(str(source.get("time"))).date()
    except ValueError:
        return dt.date.today()


def _unknown_reason(data: bytes, text: str, utf8: bool) -> str:
    if not data:
        return "Code vide."
    if b"\0" in data:
        return "Le code contient des octets NUL : corrompu ou binaire, pas un code de santé."
    if not utf8:
        return "Le code n'est pas du texte UTF-8 valide et aucun profil ne le reconnaît."
    if any(ord(c) < 32 and c not in _ALLOWED_CONTROLS or ord(c) == 127 for c in text):
        return "Le code contient des caractères de contrôle et aucun profil ne le reconnaît."
    low = text.lower()
    if low.startswith(("http://", "https://", "www.")):
        return "Adresse web (URL), pas un code de santé : pas pour ce lecteur."
    if low.startswith("wifi:"):
        return "Code de réseau Wi-Fi, pas un code de santé : pas pour ce lecteur."
    return "Aucun profil ne reconnaît ce code."


def _classify(data: bytes, text: str, utf8: bool, today: dt.date, profiles: Profiles) -> tuple[Profile, dict[str, str], list[Issue], str | None]:
    if len(data) > MAX_PAYLOAD:
        reason = f"Contenu de {len(data)} octets, plus long que tout code 2D ({MAX_PAYLOAD} octets au plus) : ce n'est pas une lecture de code."
        return profiles["unknown"], {}, [Issue("too_long", reason, "error")], reason
    profile = profiles.recognise(text) if data and b"\0" not in data else None
    if profile is None:
        reason = _unknown_reason(data, text, utf8)
        return profiles["unknown"], {}, [Issue("unrecognised", reason, "error")], reason
    parsed = apply(profile, text, today)
    if not utf8:
        parsed.issues.append(Issue("not_utf8", "Contenu non UTF-8 : lu en ISO-8859-1.", "warning"))
    return profile, parsed.fields, parsed.issues, None


def assemble(data: bytes, text: str, utf8: bool, profile: Profile, fields: dict[str, str], issues: list[Issue],
             source: Mapping[str, Any], reason: str | None = None) -> EpuLookup:
    """The EpuLookup dict for a payload already classified by `profile` (scan or manual entry)."""
    warnings = [i.as_dict() for i in issues]
    errors = [i.message for i in issues if i.severity == "error"]
    if errors and reason is None:
        reason = f"{profile.action['reason']} Inutilisable tel que lu : {errors[0]}"
    return {
        "schema": SCHEMA,
        "id": lookup_id(data, source),
        "kind": profile.kind,
        "status": status_of(profile.kind, warnings),
        "action": {"code": profile.action["code"], "label": profile.action["label"],
                   "reason": reason or profile.action["reason"]},
        "profile": {"kind": profile.kind, "version": profile.version, "reference": profile.reference,
                    "origin": profile.origin},
        "fields": fields,
        "text": text,
        "text_is_utf8": utf8,
        "bytes_b64": base64.b64encode(data).decode("ascii"),
        "source": {"reader": source.get("reader"), "read_id": source.get("read_id"), "engine": source.get("engine"),
                   "time": source.get("time")},
        "warnings": warnings,
    }


def build_lookup(data: bytes, *, source: Mapping[str, Any], profiles: Profiles | None = None,
                 gs_substitute: str | None = None) -> EpuLookup:
    """Turn one read's payload bytes into an EpuLookup dict (never raises on bad payloads).

    `gs_substitute`: the visible text a keyboard-wedge reader typed for GS (0x1D); it is
    turned back into GS for parsing, while `bytes_b64` keeps what was received.
    """
    data = bytes(data)
    profiles = profiles or default_profiles()
    text, utf8 = decode_text(data)
    parse_text = text.replace(gs_substitute, GS) if gs_substitute else text
    profile, fields, issues, reason = _classify(data, parse_text, utf8, _read_date(source), profiles)
    return assemble(data, text, utf8, profile, fields, issues, source, reason)


def now_source(reader: str, engine: str | None = None, read_id: str | None = None) -> Source:
    """A `source` stamped now (UTC), for commands that read by hand or from stdin."""
    return {"reader": reader, "read_id": read_id, "engine": engine,
            "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")}


def redacted(lookup: EpuLookup, profiles: Profiles | None = None) -> EpuLookup:
    """A copy safe for logs: sensitive fields and the raw payload replaced by their length."""
    profiles = profiles or default_profiles()
    profile = profiles.by_kind.get(lookup["kind"])
    sensitive = {f.name for f in profile.fields if f.sensitive} if profile else set()
    out = lookup.copy()
    out["fields"] = {k: (f"<{len(v)} chars>" if k in sensitive or lookup["kind"] == "unknown" else v)
                     for k, v in lookup["fields"].items()}
    out["text"] = f"<{len(lookup['text'])} chars>"
    out["bytes_b64"] = "<redacted>"
    return out
