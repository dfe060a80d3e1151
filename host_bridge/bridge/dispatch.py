"""Deliver journaled lookups to every sink: at least once, in journal order, with back-off.

One thread per sink, so a dead webhook never delays MQTT. Each thread drains
`journal.undelivered(sink)`, which after a restart is exactly what the last run did not
deliver; a failing delivery is retried with exponential back-off (capped) and never skipped,
which keeps the order per reader. A failing sink is a health problem (logged once, on the
counter page) until it takes a lookup again. If the journal cannot record a delivery (disk
full), only that record is retried: the sink is not handed the lookup a second time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from host_bridge.bridge.health import Health
from host_bridge.bridge.journal import Journal
from host_bridge.bridge.sinks import Sink
from host_bridge.payloads.schema import EpuLookup

log = logging.getLogger("electeur.bridge.dispatch")


class Dispatcher:
    def __init__(self, journal: Journal, sinks: list[Sink], *, backoff_s: float = 0.2,
                 max_backoff_s: float = 30.0, health: Health | None = None) -> None:
        self.journal = journal
        self.sinks = sinks
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.health = health or Health()
        self._stop = threading.Event()
        self._wake = {s.name: threading.Event() for s in sinks}
        self._threads = [threading.Thread(target=self._run, args=(s,), name=f"sink-{s.name}", daemon=True)
                         for s in sinks]
        journal.on_record(self._on_record)

    def _on_record(self, seq: int, lookup: EpuLookup) -> None:
        for event in self._wake.values():
            event.set()

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        for event in self._wake.values():
            event.set()
        for t in self._threads:
            if t.ident is not None:  # started
                t.join(timeout_s)
        for s in self.sinks:
            s.close()

    def _retry(self, sink: Sink, what: str, action: Callable[[], Any]) -> bool:
        """Run `action` until it succeeds (True) or the dispatcher stops (False), backing off between tries."""
        delay = self.backoff_s
        key = f"sink:{sink.name}"
        while not self._stop.is_set():
            try:
                action()
                self.health.resolve(key, f"sink {sink.name} takes lookups again")
                return True
            except Exception as exc:  # any sink or journal failure: keep the lookup, retry later
                self.health.report(key, "sink_failing", f"sink {sink.name}: {exc}. Lookups wait in the journal "
                                   "and are delivered in order once it works again (see 'pending').")
                log.warning("sink %s: %s; retrying %s in %.1f s", sink.name, exc, what, delay)
                self._stop.wait(delay)
                delay = min(delay * 2, self.max_backoff_s)
        return False

    def _run(self, sink: Sink) -> None:
        wake = self._wake[sink.name]
        while not self._stop.is_set():
            wake.clear()
            batch: list[tuple[int, EpuLookup]] = []
            if not self._retry(sink, "reading the journal", lambda: batch.extend(self.journal.undelivered(sink.name))):
                return
            for seq, lookup in batch:
                if not (self._retry(sink, f"lookup {lookup['id']}", lambda: sink.deliver(lookup)) and
                        self._retry(sink, f"recording delivery of {lookup['id']}",
                                    lambda: self.journal.mark_delivered(sink.name, [seq]))):
                    return
            if not batch:
                wake.wait(1.0)
