"""Where lookups go after the journal: each sink delivers one lookup or raises.

A sink has a stable `name` (its delivery state in the journal is keyed on it), a
`deliver(lookup)` that returns only once the lookup is handed over, and `close()`.
Retries, back-off and ordering are the dispatcher's job, not the sink's.
"""

from __future__ import annotations

from typing import Protocol
from host_bridge.payloads.schema import EpuLookup


class Sink(Protocol):
    name: str

    def deliver(self, lookup: EpuLookup) -> None: ...

    def close(self) -> None: ...


def idempotency_key(lookup: EpuLookup) -> str:
    """One version of a lookup: the same for every retry, another for its revision (ePU answered later).
    Receivers drop what at-least-once delivery sends twice by it (webhook header, MQTT sink's retry)."""
    return f"{lookup['id']}/{lookup['revision']}" if "revision" in lookup else lookup["id"]
