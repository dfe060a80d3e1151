"""POST each lookup to the LGO's URL; the lookup id doubles as the Idempotency-Key header,
so the receiver can drop the duplicates at-least-once delivery may produce. A revised lookup
(ePU answered later) is a new delivery: its key is `<id>/<revision>`.

Redirects are never followed: urllib would re-send the bearer token and Idempotency-Key to whatever host a
3xx names (as a GET without the body, whose 200 then counted as delivered). A redirect is a failed delivery
whose message says where the LGO points, and "use https://..." when it is the same URL over TLS.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from host_bridge.bridge.sinks import idempotency_key


class WebhookError(Exception):
    """The webhook did not accept the lookup (network error, redirect or non-2xx answer)."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> None:
        return None             # urllib then raises HTTPError with the 3xx: a failed delivery


def redirect_message(url: str, code: int, location: str | None) -> str:
    """What to tell the pharmacist when the webhook answers a redirect."""
    if location and urlsplit(url)._replace(scheme="https") == urlsplit(location) and url.startswith("http://"):
        return f"webhook {url} redirects to HTTPS: use {location} as the webhook url (not followed)"
    return (f"webhook {url} answered HTTP {code}, a redirect to {location or '(no Location)'}: not followed, "
            "the token is never sent elsewhere; set the webhook url to the final address")


class WebhookSink:
    def __init__(self, url: str, *, token: str | None = None, timeout_s: float = 5.0, name: str | None = None,
                 ca_file: str | None = None) -> None:
        self.url = url
        self.token = token
        self.timeout_s = timeout_s
        self.name = name or f"webhook:{url}"
        tls = ssl.create_default_context(cafile=ca_file)   # verification on; ca_file: the LGO's own CA
        self._opener = urllib.request.build_opener(_NoRedirect(), urllib.request.HTTPSHandler(context=tls))

    def deliver(self, lookup: dict[str, Any]) -> None:
        headers = {"Content-Type": "application/json", "Idempotency-Key": idempotency_key(lookup)}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        body = json.dumps(lookup, ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with self._opener.open(request, timeout=self.timeout_s) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            if 300 <= exc.code < 400:
                raise WebhookError(redirect_message(self.url, exc.code, exc.headers.get("Location"))) from exc
            raise WebhookError(f"webhook {self.url} answered HTTP {exc.code}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise WebhookError(f"webhook {self.url} unreachable: {getattr(exc, 'reason', exc)}") from exc

    def close(self) -> None:
        pass
