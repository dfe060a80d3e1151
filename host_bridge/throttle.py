"""One warning line per interval for things a stranger can repeat at will (refused origins, a rogue reader's
bad messages): every occurrence is counted, the log gets at most one line per `every_s` saying how many."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Throttle:
    """`ready()` is the number of occurrences to report now (this one plus those held back), or 0 to stay quiet."""

    def __init__(self, every_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.every_s = every_s
        self._clock = clock
        self._last: float | None = None
        self._held = 0
        self._lock = threading.Lock()

    def ready(self) -> int:
        with self._lock:
            self._held += 1
            now = self._clock()
            if self._last is not None and now - self._last < self.every_s:
                return 0
            self._last, count, self._held = now, self._held, 0
            return count
