"""The one place the bridge turns a read (or a typed code) into an EpuLookup: issue 3's payload
pipeline, then the ePU state when an ePU endpoint is configured."""

from __future__ import annotations

from typing import Any

from host_bridge.epu.client import EpuClient
from host_bridge.payloads.lookup import build_lookup, now_source
from host_bridge.payloads.manual import manual_lookup
from host_bridge.counter.session import CounterSession

__all__ = ["CounterSession", "build_lookup", "manual_lookup", "now_source", "with_epu"]


def with_epu(lookup: dict[str, Any], epu: EpuClient | None) -> dict[str, Any]:
    """Add the ePU state (and its warning) to an e-prescription lookup; other kinds pass unchanged."""
    return epu.attach(lookup) if epu is not None else lookup
