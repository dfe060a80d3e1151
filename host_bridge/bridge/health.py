"""What is wrong right now, in words the pharmacist can act on: journal not writable, a sink failing,
ePU unreachable.

A problem is logged once when it starts and once when it ends (not on every retry), listed by
`/api/health` (`status` "degraded") and pushed to the counter page, which shows it as a banner.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

log = logging.getLogger("electeur.bridge")


class Health:
    """Thread-safe set of current problems, keyed by what has the problem ("journal", "sink:<name>", "epu")."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._problems: dict[str, dict[str, Any]] = {}
        self._listeners: list[Callable[[], None]] = []

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def report(self, key: str, code: str, message: str) -> None:
        """`key` has a problem; logged (at ERROR for the journal, else WARNING) only when it starts."""
        with self._lock:
            new = key not in self._problems
            since = self._problems[key]["since"] if not new else time.time()
            self._problems[key] = {"source": key, "code": code, "message": message, "since": since}
        if new:
            log.log(logging.ERROR if key == "journal" else logging.WARNING, "PROBLEM %s: %s", key, message)
            self._changed()

    def resolve(self, key: str, message: str) -> None:
        """`key` works again (a no-op when it had no problem)."""
        with self._lock:
            gone = self._problems.pop(key, None)
        if gone:
            log.warning("RESOLVED %s after %.0f s: %s", key, time.time() - gone["since"], message)
            self._changed()

    def problems(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(p) for p in self._problems.values()]

    def _changed(self) -> None:
        for listener in self._listeners:
            listener()
