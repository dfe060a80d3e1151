"""The one place the bridge turns a read into an EpuLookup.

TEMPORARY: a minimal stand-in with the same signature and id rule as
`host_bridge.payloads.build_lookup` (issue 3) until that lands on main; then this
module only re-exports the real functions.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from typing import Any


def lookup_id(data: bytes, source: dict[str, Any]) -> str:
    """Idempotency key: (reader, read_id, bytes), so a retransmitted read maps to the same id."""
    h = hashlib.sha256(b"electeur-lookup/1\0")
    h.update(str(source.get("reader", "")).encode("utf-8", "surrogatepass") + b"\0")
    h.update(str(source.get("read_id", source.get("time", ""))).encode("utf-8", "surrogatepass") + b"\0")
    h.update(data)
    return h.hexdigest()[:32]


def build_lookup(data: bytes, *, source: dict[str, Any], session: Any = None) -> dict[str, Any]:
    """An EpuLookup-shaped dict for one read's payload (never raises on bad payloads)."""
    data = bytes(data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return {
        "schema": "electeur/epu-lookup/1",
        "id": lookup_id(data, source),
        "kind": "unknown",
        "status": "invalid",
        "fields": {},
        "text": text,
        "bytes_b64": base64.b64encode(data).decode("ascii"),
        "source": {k: source.get(k) for k in ("reader", "read_id", "engine", "time")},
        "warnings": [],
    }


def now_source(reader: str, engine: str | None = None, read_id: str | None = None) -> dict[str, Any]:
    """A `source` stamped now (UTC)."""
    return {"reader": reader, "read_id": read_id, "engine": engine,
            "time": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds")}


class CounterSession:
    """Stand-in for the per-reader counter session (cross-read checks arrive with issue 3)."""

    def __init__(self, reader: str) -> None:
        self.reader = reader


def manual_lookup(code: str, *, source: dict[str, Any], session: Any = None) -> dict[str, Any]:
    """The lookup for a code typed by hand (raises UserError when it is not a valid code)."""
    from host_bridge.errors import UserError

    number = "".join(code.split()).replace("-", "").upper()
    if not number.isalnum():
        raise UserError(f"{code!r} is not a valid e-prescription code")
    lookup = build_lookup(code.encode("utf-8"), source=source, session=session)
    lookup.update(kind="ordonnance", status="ok", fields={"prescription_number": number})
    return lookup
