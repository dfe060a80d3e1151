"""The one lookup pipeline: a read's payload (or a typed code) → EpuLookup → counter session → ePU state.

Every caller goes through here — the bridge (`on_read`, `manual_entry`), the API's manual entry,
`electeur classify`, `electeur lookup --code`, `electeur replay` and the demo — so the same input and
session give the same lookup wherever it comes from. `payloads/` stays pure (bytes → lookup);
the session and ePU steps, which need state and the network, are added here.
"""

from __future__ import annotations

import base64
import threading
from types import SimpleNamespace
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from host_bridge.counter.session import CounterSession
from host_bridge.epu.client import EpuClient
from host_bridge.payloads.lookup import build_lookup, now_source
from host_bridge.payloads.manual import PRINTED_CODE_ENGINE, manual_lookup
from host_bridge.payloads.profiles import Profiles
from host_bridge.payloads.schema import EpuLookup

MANUAL_READER = "manual"  # the `source.reader` of typed codes; they join the session of the reader used last


class Decoded(Protocol):
    """What a decoder hands over: the exact payload bytes and the engine that read them."""

    data: bytes
    engine: str | None


class LookupPipeline:
    """Classify payloads and typed codes, cross-check them per reader (when `sessions` is on), add the ePU state
    (when `epu` is set). Safe to call from several threads: the bridge's port threads and its API share one."""

    def __init__(self, *, profiles: Profiles | None = None, epu: EpuClient | None = None, sessions: bool = True,
                 gs_substitute: str | None = None) -> None:
        self.profiles = profiles  # None: the package's and $ELECTEUR_PROFILES_DIR's, looked up per read
        self.epu = epu
        self.sessions: dict[str, CounterSession] | None = {} if sessions else None
        self.gs_substitute = gs_substitute
        self._lock = threading.Lock()
        self._last_reader = MANUAL_READER   # a code typed at the counter belongs to the patient being read

    def session(self, reader: str) -> CounterSession | None:
        """The counter session of `reader` (None when sessions are off)."""
        if self.sessions is None:
            return None
        with self._lock:
            return self.sessions.setdefault(reader, CounterSession(reader))

    def new_patient(self) -> None:
        """The pharmacist's "Nouveau patient" (page button or F2): every reader's next read opens a new session."""
        with self._lock:
            for session in (self.sessions or {}).values():
                session.new_patient()

    def _finish(self, lookup: EpuLookup, reader: str) -> EpuLookup:
        session = self.session(reader)
        if session is not None:
            lookup = session.observe(lookup)
        return self.epu.attach(lookup) if self.epu is not None else lookup

    def lookup(self, data: bytes, source: Mapping[str, Any]) -> EpuLookup:
        """One payload as read → one lookup; never raises on bad payloads. A number the host read by OCR on the
        code printed under a damaged QR (`source.engine` PRINTED_CODE_ENGINE) is looked up as if typed."""
        if source.get("engine") == PRINTED_CODE_ENGINE:
            lookup = manual_lookup(data.decode("ascii"), source=source, profiles=self.profiles)
        else:
            lookup = build_lookup(data, source=source, profiles=self.profiles, gs_substitute=self.gs_substitute)
        self._last_reader = str(source.get("reader"))
        return self._finish(lookup, self._last_reader)

    def manual(self, code: str, source: Mapping[str, Any] | None = None) -> EpuLookup:
        """A code typed by hand (the number printed under an e-prescription's QR) → the lookup a scan would give.

        Raises UserError when the code is not a valid number for any profile that allows manual entry."""
        where = source or now_source(MANUAL_READER, engine="manual")
        session = self._last_reader if source is None else str(where.get("reader"))
        return self._finish(manual_lookup(code, source=where, profiles=self.profiles), session)

    def lookups(self, symbols: Iterable[Decoded], *, reader: str, read_id: str | None = None) -> list[EpuLookup]:
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
