"""POST each lookup to the LGO's URL; the lookup id doubles as the Idempotency-Key header,
so the receiver can drop the duplicates at-least-once delivery may produce. A revised lookup
(ePU answered later) is a new delivery: its key is `<id>/<revision>`."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from host_bridge.bridge.sinks import idempotency_key
from host_bridge.payloads.schema import EpuLookup


class WebhookError(Exception):
    """The webhook did not accept the lookup (network error or non-2xx answer)."""


class WebhookSink:
    def __init__(self, url: str, *, token: str | None = None, timeout_s: float = 5.0, name: str | None = None) -> None:
        self.url = url
        self.token = token
        self.timeout_s = timeout_s
        self.name = name or f"webhook:{url}"

    def deliver(self, lookup: EpuLookup) -> None:
        headers = {"Content-Type": "application/json", "Idempotency-Key": idempotency_key(lookup)}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        body = json.dumps(lookup, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            raise WebhookError(f"webhook {self.url} answered HTTP {exc.code}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise WebhookError(f"webhook {self.url} unreachable: {getattr(exc, 'reason', exc)}") from exc

    def close(self) -> None:
        pass
