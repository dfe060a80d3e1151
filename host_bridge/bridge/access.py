"""First access to the counter page: one-time links, and the token kept by the browser as a cookie.

The API token never has to be copied by hand: `electeur run` prints a one-time link, and `electeur open`
(run on the counter PC by anyone who can read the token file) asks the running bridge for another. Opening the
link swaps the code for an HttpOnly, SameSite=Strict cookie holding the token: page scripts cannot read it, other
sites' pages cannot send it, and it survives browser and bridge restarts (until the token changes).
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from typing import TypeVar

from aiohttp import web

COOKIE = "electeur_token"
COOKIE_MAX_AGE = 400 * 86400  # the longest a browser keeps a cookie (Chromium caps Max-Age at 400 days)
CODE_TTL_S = 600.0            # a one-time link is good for 10 minutes
MAX_CODES = 16                # outstanding codes; the oldest is dropped beyond this
R = TypeVar("R", bound=web.StreamResponse)


class OneTimeCodes:
    """Codes that each open the page once, within CODE_TTL_S."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._codes: dict[str, float] = {}
        self._clock = clock

    def new(self) -> str:
        now = self._clock()
        self._codes = {c: t for c, t in self._codes.items() if t > now}
        while len(self._codes) >= MAX_CODES:
            self._codes.pop(next(iter(self._codes)))
        code = secrets.token_urlsafe(18)
        self._codes[code] = now + CODE_TTL_S
        return code

    def use(self, code: str) -> bool:
        """True once for a code given out less than CODE_TTL_S ago; never again."""
        expires = self._codes.pop(code, None)
        return expires is not None and expires > self._clock()


def with_cookie(response: R, token: str, secure: bool) -> R:
    response.set_cookie(COOKIE, token, max_age=COOKIE_MAX_AGE, path="/", httponly=True, samesite="Strict",
                        secure=secure)
    return response


def refused_page(message: str) -> web.Response:
    """The answer to a used or expired link: a page that says what to do (it is opened from a terminal)."""
    body = ("<!doctype html><html lang='fr'><meta charset='utf-8'><title>e-lecteur — lien refusé</title>"
            "<body style='font:18px system-ui;margin:2rem'><h1>Lien refusé</h1>"
            f"<p>{message}</p><p><a href='/'>Page du comptoir</a></p></body></html>")
    return web.Response(status=403, text=body, content_type="text/html")


def token_from_body(body: bytes) -> str | None:
    """The token of a login form post `{"token": "..."}`, or None."""
    try:
        token = json.loads(body.decode("utf-8"))["token"]
    except (ValueError, KeyError, TypeError, IndexError, RecursionError):
        return None
    return token.strip() if isinstance(token, str) else None
