"""After decoding: decoded symbols → EpuLookups → ePU consult, the same steps for the bridge, replay and demo."""

from __future__ import annotations

import base64
from types import SimpleNamespace
from typing import Any, Iterable, Protocol

from host_bridge.epu.client import EpuClient
from host_bridge.payloads.lookup import build_lookup, now_source
from host_bridge.payloads.profiles import Profiles, default_profiles
from host_bridge.counter.session import CounterSession


class Decoded(Protocol):
    """What a decoder hands over: the exact payload bytes and the engine that read them."""

    data: bytes
    engine: str


class LookupPipeline:
    """Classify and look up decoded symbols; one counter session per reader when `sessions` is on."""

    def __init__(self, *, profiles: Profiles | None = None, epu: EpuClient | None = None, sessions: bool = True,
                 gs_substitute: str | None = None) -> None:
        self.profiles = profiles or default_profiles()
        self.epu = epu
        self.sessions: dict[str, CounterSession] | None = {} if sessions else None
        self.gs_substitute = gs_substitute

    def session(self, reader: str) -> CounterSession | None:
        if self.sessions is None:
            return None
        return self.sessions.setdefault(reader, CounterSession(reader))

    def lookup(self, data: bytes, source: dict[str, Any]) -> dict[str, Any]:
        """One payload → one lookup (with session cross-checks and the ePU state when configured)."""
        lookup = build_lookup(data, source=source, session=self.session(str(source.get("reader"))),
                              profiles=self.profiles, gs_substitute=self.gs_substitute)
        if self.epu is not None:
            self.epu.attach(lookup)
        return lookup

    def lookups(self, symbols: Iterable[Decoded], *, reader: str, read_id: str | None = None) -> list[dict[str, Any]]:
        """Lookups for the symbols of one frame; read ids `<read_id>#<n>` keep them idempotent across replays."""
        out = []
        for n, symbol in enumerate(symbols):
            rid = f"{read_id}#{n}" if read_id is not None else None
            out.append(self.lookup(symbol.data, now_source(reader, engine=symbol.engine, read_id=rid)))
        return out

    def add_to_row(self, row: dict[str, Any], *, reader: str = "replay") -> dict[str, Any]:
        """Give a decode row (`{"file", "symbols": [{"bytes_b64", "engine", ...}]}`) its `lookups`, read ids from the file."""
        symbols = [SimpleNamespace(data=base64.b64decode(s["bytes_b64"]), engine=s.get("engine")) for s in row.get("symbols", [])]
        row["lookups"] = self.lookups(symbols, reader=reader, read_id=str(row.get("file")))
        return row
