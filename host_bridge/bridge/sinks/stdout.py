"""JSON lines on stdout: the simplest integration (pipe the bridge into anything)."""

from __future__ import annotations

import json
import sys
from typing import IO
from host_bridge.payloads.schema import EpuLookup


class StdoutSink:
    name = "stdout"

    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stdout

    def deliver(self, lookup: EpuLookup) -> None:
        self.stream.write(json.dumps(lookup, ensure_ascii=False, separators=(",", ":")) + "\n")
        self.stream.flush()

    def close(self) -> None:
        self.stream.flush()
