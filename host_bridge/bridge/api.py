"""The local HTTP + WebSocket API and the counter page.

Loopback only by default; every /api route wants the bearer token (WebSocket clients,
which cannot set headers from a browser, may pass it as `?token=` or as a
`bearer.<token>` subprotocol); requests carrying an Origin other than the bridge's own
are refused, so a web page the pharmacist happens to open cannot read health data.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import weakref
from collections.abc import Callable
from importlib import resources
from typing import Any

from aiohttp import WSMsgType, web

from host_bridge import __version__
from host_bridge.bridge.health import Health
from host_bridge.bridge.journal import Journal, JournalError
from host_bridge.bridge.lookups import manual_lookup, now_source
from host_bridge.errors import UserError

log = logging.getLogger("electeur.bridge.api")
API_VERSION = "1"
WEB = resources.files("host_bridge") / "web"
PAGE_FILES = {"index.html": "text/html", "counter.js": "text/javascript", "counter.css": "text/css"}


def own_origins(host: str, port: int) -> set[str]:
    """The origins the counter page itself is served from (loopback names are interchangeable)."""
    names = {host}
    if host in ("127.0.0.1", "localhost", "::1"):
        names |= {"127.0.0.1", "localhost", "[::1]"}
    return {f"http://{n}:{port}" for n in names}


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


class Api:
    """State the handlers share; `build()` returns the aiohttp application."""

    def __init__(self, journal: Journal, *, token: str, origins: set[str],
                 devices: Callable[[], list[dict[str, Any]]] = list,
                 manual_entry: Callable[[str], dict[str, Any]] | None = None, sinks: tuple[str, ...] = (),
                 health: Health | None = None) -> None:
        self.journal = journal
        self.token = token
        self.origins = origins
        self.devices = devices
        self.manual_entry = manual_entry or self._manual_entry
        self.sinks = sinks
        self.health = health or Health()
        self.health.on_change(lambda: self.publish({"type": "health", **self._status()}))
        self._sockets: weakref.WeakSet[web.WebSocketResponse] = weakref.WeakSet()
        self._loop: asyncio.AbstractEventLoop | None = None
        journal.on_record(self._on_record)

    # -- security ------------------------------------------------------------------------
    def _token_ok(self, request: web.Request) -> bool:
        given = None
        auth = request.headers.get("Authorization", "")
        if auth.startswith("Bearer "):
            given = auth[7:].strip()
        elif request.path == "/api/events":
            given = request.query.get("token")
            for proto in request.headers.get("Sec-WebSocket-Protocol", "").split(","):
                if proto.strip().startswith("bearer."):
                    given = proto.strip()[7:]
        return given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    @web.middleware
    async def guard(self, request: web.Request, handler):
        origin = request.headers.get("Origin")
        if origin is not None and origin not in self.origins:
            log.warning("refused %s %s from origin %s", request.method, request.path, origin)
            return _error(403, f"origin {origin} is not allowed")
        if request.path.startswith("/api/") and not self._token_ok(request):
            return web.json_response({"error": "missing or wrong bearer token"}, status=401,
                                     headers={"WWW-Authenticate": 'Bearer realm="electeur"'})
        response = await handler(request)
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    # -- events --------------------------------------------------------------------------
    def _on_record(self, seq: int, lookup: dict[str, Any]) -> None:
        """Called from whichever thread journaled the lookup: hop onto the event loop."""
        self.publish({"type": "lookup", "cursor": str(seq), "lookup": lookup})

    def publish(self, event: dict[str, Any]) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._broadcast, json.dumps(event, ensure_ascii=False))

    def _broadcast(self, text: str) -> None:
        for ws in list(self._sockets):
            if not ws.closed:
                asyncio.ensure_future(ws.send_str(text))

    # -- handlers ------------------------------------------------------------------------
    async def lookups(self, request: web.Request) -> web.Response:
        try:
            limit, last = (max(1, min(int(request.query.get(k, "100")), 1000)) for k in ("limit", "last"))
        except ValueError:
            return _error(400, "'limit' and 'last' must be whole numbers (1-1000)")
        try:
            found, nxt = (self.journal.latest(last) if "last" in request.query
                          else self.journal.after(request.query.get("after"), limit))
        except ValueError as exc:
            return _error(400, str(exc))
        return web.json_response({"lookups": found, "next": nxt})

    async def lookup(self, request: web.Request) -> web.Response:
        found = self.journal.get(request.match_info["id"])
        return web.json_response(found) if found else _error(404, "no lookup with this id")

    async def manual(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            code = body["code"]
            if not isinstance(code, str):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return _error(400, 'send JSON {"code": "<the code printed under the QR>"}')
        try:
            lookup = self.manual_entry(code)
        except UserError as exc:
            return _error(422, str(exc))
        except JournalError as exc:
            return _error(503, f"{exc}: the code was not recorded, try again once disk space is freed")
        return web.json_response(lookup, status=201)

    def _manual_entry(self, code: str) -> dict[str, Any]:
        """Without a bridge (tests, tools): the same lookup as `electeur lookup --code`, journaled."""
        lookup = manual_lookup(code, source=now_source("manual", engine="manual"))
        self.journal.record(lookup)
        return lookup

    def _status(self) -> dict[str, Any]:
        problems = self.health.problems()
        return {"status": "degraded" if problems else "ok", "problems": problems}

    async def health_route(self, request: web.Request) -> web.Response:
        return web.json_response({**self._status(), "version": __version__, "api": API_VERSION,
                                  "lookups": self.journal.count(), "journal": str(self.journal.path),
                                  "sinks": {name: {"pending": self.journal.pending(name)} for name in self.sinks}})

    async def list_devices(self, request: web.Request) -> web.Response:
        return web.json_response({"devices": self.devices()})

    async def events(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(protocols=[f"bearer.{self.token}"], heartbeat=30)
        await ws.prepare(request)
        self._sockets.add(ws)
        await ws.send_json({"type": "hello", "devices": self.devices(), **self._status()})
        async for msg in ws:
            if msg.type == WSMsgType.ERROR:
                break
        return ws

    async def openapi(self, request: web.Request) -> web.Response:
        return web.json_response(OPENAPI)

    async def page(self, request: web.Request) -> web.Response:
        name = request.match_info.get("name") or "index.html"
        if name not in PAGE_FILES:
            raise web.HTTPNotFound()
        headers = {"Content-Security-Policy": "default-src 'self'; connect-src 'self' ws: wss:; object-src 'none'"}
        return web.Response(body=(WEB / name).read_bytes(), content_type=PAGE_FILES[name], headers=headers)

    async def _started(self, app: web.Application) -> None:
        self._loop = asyncio.get_running_loop()

    def build(self) -> web.Application:
        app = web.Application(middlewares=[self.guard], client_max_size=64 * 1024)
        app.on_startup.append(self._started)
        app.add_routes([
            web.get("/api/lookups", self.lookups),
            web.post("/api/lookups/manual", self.manual),
            web.get("/api/lookups/{id}", self.lookup),
            web.get("/api/health", self.health_route),
            web.get("/api/devices", self.list_devices),
            web.get("/api/events", self.events),
            web.get("/api/openapi.json", self.openapi),
            web.get("/", self.page),
            web.get("/{name}", self.page),
        ])
        return app


def _op(summary: str, schema: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    ok = {"description": "OK", "content": {"application/json": {"schema": schema or {"type": "object"}}}}
    return {"summary": summary, "responses": {"200": ok, "401": {"description": "missing or wrong token"},
                                              "403": {"description": "foreign Origin"}}, **extra}


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {"title": "e-lecteur bridge API", "version": API_VERSION},
    "servers": [{"url": "http://127.0.0.1:8765"}],
    "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
                   "schemas": {"EpuLookup": {"type": "object", "required": ["schema", "id", "kind", "source"],
                                             "description": "docs/schemas/epu-lookup.v1.json"}}},
    "security": [{"bearer": []}],
    "paths": {
        "/api/lookups": {"get": _op(
            "Lookups recorded after a cursor, oldest first",
            {"type": "object", "properties": {"lookups": {"type": "array", "items": {"$ref": "#/components/schemas/EpuLookup"}},
                                              "next": {"type": "string"}}},
            parameters=[{"name": "after", "in": "query", "schema": {"type": "string"}},
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
                        {"name": "last", "in": "query", "description": "instead of after: the N most recent",
                         "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}])},
        "/api/lookups/{id}": {"get": _op("One lookup by id", {"$ref": "#/components/schemas/EpuLookup"},
                                         parameters=[{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}])},
        "/api/lookups/manual": {"post": _op("Record the lookup for a code typed by hand (body {\"code\": ...}); 201, or 422 if invalid",
                                            {"$ref": "#/components/schemas/EpuLookup"})},
        "/api/health": {"get": _op("Service status: 'ok', or 'degraded' with the current problems (journal not writable, sink failing, ePU unreachable)")},
        "/api/devices": {"get": _op("Readers the bridge knows and their state")},
        "/api/events": {"get": _op("WebSocket: {type: hello|lookup|device|health, ...} events; token as header, ?token= or subprotocol bearer.<token>")},
        "/api/openapi.json": {"get": _op("This description")},
    },
}
