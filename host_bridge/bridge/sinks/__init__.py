"""Where lookups go after the journal: each sink delivers one lookup or raises.

A sink has a stable `name` (its delivery state in the journal is keyed on it), a
`deliver(lookup)` that returns only once the lookup is handed over, and `close()`.
Retries, back-off and ordering are the dispatcher's job, not the sink's.
"""

from __future__ import annotations

from typing import Any, Protocol


class Sink(Protocol):
    name: str

    def deliver(self, lookup: dict[str, Any]) -> None: ...

    def close(self) -> None: ...
