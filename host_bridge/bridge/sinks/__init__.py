"""Where lookups go after the journal: each sink delivers one lookup or raises.

A sink has a stable `name` (its delivery state in the journal is keyed on it), a
`deliver(lookup)` that returns only once the lookup is handed over, and `close()`.
Retries, back-off and ordering are the dispatcher's job, not the sink's.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from host_bridge.bridge.redact import SENSITIVE_KEY


class Sink(Protocol):
    name: str

    def deliver(self, lookup: dict[str, Any]) -> None: ...

    def close(self) -> None: ...


def idempotency_key(lookup: dict[str, Any]) -> str:
    """One version of a lookup: the same for every retry, another for its revision (ePU answered later).
    Receivers drop what at-least-once delivery sends twice by it (webhook header, MQTT sink's retry)."""
    return f"{lookup['id']}/{lookup['revision']}" if "revision" in lookup else lookup["id"]


PERSONAL = re.compile(rf"(?:patient|beneficiary)_[\w-]*|{SENSITIVE_KEY}", re.IGNORECASE)


def minimise(lookup: dict[str, Any]) -> dict[str, Any]:
    """The lookup without what identifies the person: no NIR/INS number, names, birth date, sex, birthplace or
    address fields, no member number or apCV token, and no raw payload (`text`, `bytes_b64` empty), which holds
    them all. Kind, status, action, warnings, the prescription number and the ePU state remain."""
    fields = {k: v for k, v in (lookup.get("fields") or {}).items() if not PERSONAL.fullmatch(k)}
    return {**lookup, "fields": fields, "text": "", "bytes_b64": "", "minimised": True}


class Minimised:
    """A sink that is handed `minimise(lookup)` (config `minimal = true`): for a dashboard or a broker that
    needs to know a read happened, not who it was. Same name, so its delivery state is the inner sink's."""

    def __init__(self, inner: Sink) -> None:
        self.inner = inner
        self.name = inner.name

    def deliver(self, lookup: dict[str, Any]) -> None:
        self.inner.deliver(minimise(lookup))

    def close(self) -> None:
        self.inner.close()
