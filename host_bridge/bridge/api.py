"""The local HTTP + WebSocket API and the counter page.

Loopback only by default; every /api route wants the bearer token (WebSocket clients,
which cannot set headers from a browser, may pass it as `?token=` or as a
`bearer.<token>` subprotocol); requests carrying an Origin other than the bridge's own
are refused, so a web page the pharmacist happens to open cannot read health data. The Host header must
name the bridge (DNS rebinding: a page whose domain was re-pointed to 127.0.0.1 is refused even before the
token), and the page may connect only to its own origin and be framed by nobody.

Connections are bounded for half-sent requests (slow loris): one idle or still sending its headers is closed
after `IDLE_S`, and a client (IP address) has at most `PER_CLIENT` such connections, its oldest closed
first, so a flood from one address neither exhausts file descriptors nor locks out the page.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from aiohttp import WSCloseCode, WSMsgType, web

from host_bridge import __version__
from host_bridge.bridge import access
from host_bridge.bridge.health import Health
from host_bridge.bridge.journal import Journal, JournalError, decode_cursor
from host_bridge.counter.pipeline import LookupPipeline
from host_bridge.errors import UserError
from host_bridge.throttle import Throttle

log = logging.getLogger("electeur.bridge.api")
API_VERSION = "1"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
WEB = resources.files("host_bridge") / "web"
PAGE_FILES = {"index.html": "text/html", "counter.js": "text/javascript", "counter.css": "text/css"}


LOOPBACK = ("127.0.0.1", "localhost", "::1")
IDLE_S = 10.0           # a connection with no complete request for this long is closed
PER_CLIENT = 32         # connections per client address not inside a request; beyond, the oldest is closed
BODY_S = 10.0           # to send a request body


def own_origins(host: str, port: int, tls: bool = False) -> set[str]:
    """The origins the counter page itself is served from (loopback names are interchangeable)."""
    names = {host}
    if host in LOOPBACK:
        names |= {"127.0.0.1", "localhost", "[::1]"}
    return {f"{'https' if tls else 'http'}://{n}:{port}" for n in names}


class ClientConnections:
    """Per client address, the connections not inside a request, oldest first: each is closed after `IDLE_S`
    (headers never finished, or an idle keep-alive), and beyond `limit` the oldest is closed at once. Requests
    mark their connection busy for their duration (a WebSocket for its life)."""

    def __init__(self, limit: int = PER_CLIENT) -> None:
        self.limit = limit
        self._idle: dict[str, OrderedDict[Any, tuple[asyncio.BaseTransport, asyncio.TimerHandle]]] = {}
        self._client_of: dict[Any, str] = {}
        self.closed = 0

    def opened(self, handler: Any, transport: asyncio.BaseTransport) -> None:
        peer = transport.get_extra_info("peername")
        client = self._client_of[handler] = str(peer[0]) if peer else ""
        idle = self._idle.setdefault(client, OrderedDict())
        idle[handler] = (transport, asyncio.get_running_loop().call_later(IDLE_S, self._close, handler))
        while len(idle) > self.limit:
            self._close(next(iter(idle)))

    def _close(self, handler: Any) -> None:
        transport = self.forget(handler)
        if transport is not None:
            transport.close()
            self.closed += 1

    def forget(self, handler: Any) -> asyncio.BaseTransport | None:
        """Forget `handler` (closed, or now inside a request); its transport if it was idle."""
        client = self._client_of.pop(handler, None)
        idle = self._idle.get(client) if client is not None else None
        entry = idle.pop(handler, None) if idle is not None else None
        if idle is not None and not idle:
            del self._idle[client]  # type: ignore[arg-type]
        if entry is None:
            return None
        entry[1].cancel()
        return entry[0]

    def done(self, handler: Any, transport: asyncio.BaseTransport | None) -> None:
        if transport is not None and not transport.is_closing():
            self.opened(handler, transport)


MAX_BODY = 64 * 1024  # a manual entry is a few bytes: refuse anything that could exhaust memory
CLOSE_S = 0.5  # at shutdown, how long a WebSocket client gets to answer our close frame
STOP_S = 0.5   # at shutdown, how long in-flight HTTP requests get
MAX_CODE = 64  # a printed prescription code is 16 characters plus spaces: anything longer is not one
MAX_REASON = 500  # a refusal's reason is a sentence


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


class BadRequest(ValueError):
    """Input the API refuses: the HTTP `status` (4xx) and a message saying what to send instead."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def bearer_token(headers: Mapping[str, str], query: Mapping[str, str], *, websocket: bool) -> str | None:
    """The token a request presents: `Authorization: Bearer`, or for the WebSocket (browsers cannot set
    headers there) `?token=` or a `bearer.<token>` subprotocol."""
    auth = headers.get("Authorization", "")
    if auth.startswith("Bearer "):
        return auth[7:].strip()
    if not websocket:
        return None
    given = query.get("token")
    for proto in headers.get("Sec-WebSocket-Protocol", "").split(","):
        if proto.strip().startswith("bearer."):
            given = proto.strip()[7:]
    return given


def paging(query: Mapping[str, str]) -> tuple[int, str | None, int]:
    """(last, after, limit) from /api/lookups' query: `last` > 0 asks for the most recent, else page after `after`."""
    try:
        limit, last = (max(1, min(int(query.get(k, "100")), 1000)) for k in ("limit", "last"))
    except ValueError:
        raise BadRequest(400, "'limit' and 'last' must be whole numbers (1-1000)") from None
    cursor = query.get("after")
    decode_cursor(cursor)  # refuse a bad cursor before touching the journal
    return (last if "last" in query else 0), cursor, limit


def _json_text(body: bytes, key: str, usage: str) -> str:
    """The string `key` of a JSON object body; BadRequest(400, usage) when the body is not that."""
    try:
        value = json.loads(body.decode("utf-8"))[key]
        if not isinstance(value, str):
            raise TypeError
    except (ValueError, KeyError, TypeError, IndexError, RecursionError):
        raise BadRequest(400, usage) from None
    return value


def manual_code(body: bytes) -> str:
    """The code of a manual-entry body `{"code": "..."}`; BadRequest when the body is not that."""
    code = _json_text(body, "code", 'send JSON {"code": "<the code printed under the QR>"}')
    if len(code) > MAX_CODE:
        raise BadRequest(422, f"le code fait {len(code)} caractères : tapez le code de 16 caractères imprimé sous le QR")
    return code


def refusal_reason(body: bytes) -> str:
    """The reason of a refusal body `{"reason": "..."}` (required, trimmed); BadRequest otherwise."""
    reason = " ".join(_json_text(body, "reason", 'send JSON {"reason": "<pourquoi l\'ordonnance numérique est refusée>"}').split())
    if not reason:
        raise BadRequest(422, "motif obligatoire : dites pourquoi l'ordonnance numérique est refusée")
    if len(reason) > MAX_REASON:
        raise BadRequest(422, f"motif trop long ({len(reason)} caractères, {MAX_REASON} au plus)")
    return reason


class Api:
    """State the handlers share; `build()` returns the aiohttp application."""

    def __init__(self, journal: Journal, *, token: str, origins: set[str],
                 devices: Callable[[], list[dict[str, Any]]] = list,
                 manual_entry: Callable[[str], dict[str, Any]] | None = None, sinks: tuple[str, ...] = (),
                 health: Health | None = None, token_where: str = "",
                 new_patient: Callable[[], None] = lambda: None,
                 refuse: Callable[[str, str], dict[str, Any]] | None = None) -> None:
        self.journal = journal
        self.token = token
        self.token_where = token_where  # said with every 401: where the person at the counter PC finds the token
        self.codes = access.OneTimeCodes()
        self.new_patient = new_patient
        self.origins = origins
        self.devices = devices
        self.manual_entry = manual_entry or self._manual_entry
        self.refuse = refuse
        self.pipeline = LookupPipeline(sessions=False)  # for `_manual_entry`; the bridge passes its own `manual_entry`
        self.sinks = sinks
        self.health = health or Health()
        self.health.on_change(lambda: self.publish({"type": "health", **self._status()}))
        self._sockets: weakref.WeakSet[web.WebSocketResponse] = weakref.WeakSet()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._refused_log = Throttle(60.0)      # a hostile page can repeat refused requests at will
        self.connections = ClientConnections()
        journal.on_record(self._on_record)

    # -- security ------------------------------------------------------------------------
    def _token_ok(self, request: web.Request) -> bool:
        given = bearer_token(request.headers, request.query, websocket=request.path == "/api/events") \
            or request.cookies.get(access.COOKIE)  # the counter page's browser, after a one-time link
        return self.token_is(given)

    def token_is(self, given: str | None) -> bool:
        # header bytes that are not UTF-8 arrive as surrogates: compare them as bytes, never raise
        return given is not None and hmac.compare_digest(given.encode("utf-8", "surrogateescape"), self.token.encode())

    @web.middleware
    async def guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        self.connections.forget(request.protocol)          # inside a request: not idle
        try:
            return await self._guarded(request, handler)
        finally:
            self.connections.done(request.protocol, request.transport)

    async def _guarded(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.host not in {urlsplit(o).netloc for o in self.origins}:
            return _error(421, f"host {request.host!r} is not this bridge's address: open the page at "
                               f"{min(self.origins, default='the address electeur run printed')}")
        origin = request.headers.get("Origin")
        if origin is not None and origin not in self.origins:
            if count := self._refused_log.ready():
                log.warning("refused %s %s from origin %s%s", request.method, request.path, origin,
                            f" (and {count - 1} more refused origins since the last report)" if count > 1 else "")
            return _error(403, f"origin {origin} is not allowed")
        if request.path.startswith("/api/") and not self._token_ok(request):
            return web.json_response({"error": "missing or wrong bearer token", "token_where": self.token_where},
                                     status=401, headers={"WWW-Authenticate": 'Bearer realm="electeur"'})
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # 404, 405, 413...: the same JSON shape as every other error
            if exc.status < 400:
                raise
            response = _error(exc.status, exc.reason if exc.status != 413 else
                              f"request body too large (at most {MAX_BODY} bytes)")
        except ConnectionResetError:  # the client went away mid-request: nobody to answer
            raise
        except Exception:  # a bug must not leak a traceback to the client; the log (redacted) keeps it
            log.exception("internal error on %s %s", request.method, request.path)
            response = _error(500, "internal error: see the bridge's log")
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
            last, cursor, limit = paging(request.query)
            found, nxt = self.journal.latest(last) if last else self.journal.after(cursor, limit)
        except BadRequest as exc:
            return _error(exc.status, str(exc))
        except ValueError as exc:  # a cursor we never gave out
            return _error(400, str(exc))
        return web.json_response({"lookups": found, "next": nxt})

    async def lookup(self, request: web.Request) -> web.Response:
        found = self.journal.get(request.match_info["id"])
        return web.json_response(found) if found else _error(404, "no lookup with this id")

    async def manual(self, request: web.Request) -> web.Response:
        try:
            async with asyncio.timeout(BODY_S):
                body = await request.read()
            lookup = self.manual_entry(manual_code(body))
        except TimeoutError:
            return _error(408, f"request body not received within {BODY_S:g} s")
        except BadRequest as exc:
            return _error(exc.status, str(exc))
        except UserError as exc:
            return _error(422, str(exc))
        except JournalError as exc:
            return _error(503, f"{exc}: the code was not recorded, try again once disk space is freed")
        return web.json_response(lookup, status=201)

    async def new_session(self, request: web.Request) -> web.Response:
        """The pharmacist starts the next patient: sessions roll, and every open page is told."""
        self.new_patient()
        self.publish({"type": "session", "opened_by": "pharmacist"})
        return web.json_response({"opened_by": "pharmacist"}, status=201)

    async def refusal(self, request: web.Request) -> web.Response:
        """REFUS E-PRESCRIPTION on a recorded lookup: ePU records it with its reason, the lookup is revised."""
        if self.refuse is None:
            return _error(503, "pas d'ePU configuré : le refus ne peut pas être enregistré")
        try:
            lookup = await asyncio.to_thread(self.refuse, request.match_info["id"], refusal_reason(await request.read()))
        except BadRequest as exc:
            return _error(exc.status, str(exc))
        except JournalError as exc:
            return _error(503, f"{exc}: the refusal reached ePU but is not journaled yet; read the code again")
        return web.json_response(lookup, status=201)

    def _manual_entry(self, code: str) -> dict[str, Any]:
        """Without a bridge (tests, tools): the same lookup as `electeur lookup --code`, journaled."""
        lookup = self.pipeline.manual(code)
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

    # -- first access (host_bridge.bridge.access) ----------------------------------------------------------
    def one_time_link(self, base: str) -> str:
        """A link that opens the page once, logged in (printed by `electeur run`, asked by `electeur open`)."""
        return f"{base.rstrip('/')}/open?code={self.codes.new()}"

    async def open_code(self, request: web.Request) -> web.Response:
        return web.json_response({"url": self.one_time_link(f"{request.scheme}://{request.host}"),
                                  "expires_s": access.CODE_TTL_S}, status=201)

    async def open_link(self, request: web.Request) -> web.StreamResponse:
        if not self.codes.use(request.query.get("code", "")):
            return access.refused_page("Ce lien a déjà servi ou a expiré (10 minutes). Sur ce poste, lancez "
                                       "<code>electeur open</code> pour en obtenir un autre.")
        return access.with_cookie(web.Response(status=303, headers={"Location": "/"}), self.token, request.secure)

    async def login(self, request: web.Request) -> web.Response:
        """The page's token form (or a `#token=` link): checked, then kept by the browser as the cookie."""
        if not self.token_is(access.token_from_body(await request.read())):
            return web.json_response({"error": "jeton refusé", "token_where": self.token_where}, status=401)
        return access.with_cookie(web.Response(status=204), self.token, request.secure)

    async def openapi(self, request: web.Request) -> web.Response:
        return web.json_response(OPENAPI)

    async def page(self, request: web.Request) -> web.Response:
        name = request.match_info.get("name") or "index.html"
        if name not in PAGE_FILES:
            raise web.HTTPNotFound()
        ws = f"{'wss' if request.secure else 'ws'}://{request.host}"        # the Host was checked by guard()
        headers = {"Content-Security-Policy": f"default-src 'self'; connect-src 'self' {ws}; object-src 'none'; "
                                              "frame-ancestors 'none'", "X-Frame-Options": "DENY"}
        return web.Response(body=(WEB / name).read_bytes(), content_type=PAGE_FILES[name], headers=headers)

    async def _started(self, app: web.Application) -> None:
        self._loop = asyncio.get_running_loop()

    async def _closing(self, app: web.Application) -> None:
        """Shutdown (SIGTERM): close every WebSocket first. An open one keeps its handler running, and the
        server would wait for it (a service manager's stop then hangs); the page shows "hors ligne" at once."""
        async def close(ws: web.WebSocketResponse) -> None:
            with contextlib.suppress(asyncio.TimeoutError, ConnectionError):
                await asyncio.wait_for(ws.close(code=WSCloseCode.GOING_AWAY, message=b"bridge stopping"), CLOSE_S)
        await asyncio.gather(*(close(ws) for ws in list(self._sockets)))

    def runner(self) -> web.AppRunner:
        """The runner `electeur run` serves with: idle and half-sent connections closed after `IDLE_S`, at most
        `PER_CLIENT` of them per client address; in-flight requests get STOP_S at shutdown (a service manager's
        stop must not wait on a client)."""
        return _BoundedRunner(self.build(), self.connections, access_log=None, shutdown_timeout=STOP_S)

    def build(self) -> web.Application:
        app = web.Application(middlewares=[self.guard], client_max_size=MAX_BODY)
        app.on_startup.append(self._started)
        app.on_shutdown.append(self._closing)
        app.add_routes([
            web.get("/api/lookups", self.lookups),
            web.post("/api/lookups/manual", self.manual),
            web.post("/api/sessions/new", self.new_session),
            web.get("/api/lookups/{id}", self.lookup),
            web.post("/api/lookups/{id}/refusal", self.refusal),
            web.get("/api/health", self.health_route),
            web.get("/api/devices", self.list_devices),
            web.get("/api/events", self.events),
            web.get("/api/openapi.json", self.openapi),
            web.post("/api/open-codes", self.open_code),
            web.get("/open", self.open_link),
            web.post("/open", self.login),
            web.get("/", self.page),
            web.get("/{name}", self.page),
        ])
        return app


class _BoundedRunner(web.AppRunner):
    """An AppRunner whose server reports connections to a ClientConnections (aiohttp has no public hook for it)."""

    def __init__(self, app: web.Application, connections: ClientConnections, **kwargs: Any) -> None:
        super().__init__(app, **kwargs)
        self.connections = connections

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        made, lost = server.connection_made, server.connection_lost

        def connection_made(handler: Any, transport: asyncio.Transport) -> None:
            made(handler, transport)
            self.connections.opened(handler, transport)

        def connection_lost(handler: Any, exc: BaseException | None = None) -> None:
            lost(handler, exc)
            self.connections.forget(handler)

        server.connection_made, server.connection_lost = connection_made, connection_lost  # type: ignore[method-assign]
        return server


def _op(summary: str, schema: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    ok = {"description": "OK", "content": {"application/json": {"schema": schema or {"type": "object"}}}}
    return {"summary": summary, "responses": {"200": ok, "401": _refusal("missing or wrong token"),
                                              "403": _refusal("foreign Origin"),
                                              "4XX": _refusal("any other refusal: 400, 404, 405, 413, 422")}, **extra}


def _refusal(description: str) -> dict[str, Any]:
    """Every refusal has the same JSON body."""
    return {"description": description, "content": {"application/json": {"schema": {
        "type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}}}}


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
        "/api/sessions/new": {"post": _op("201: the pharmacist starts the next patient; the next read of every reader opens "
                                          "a new counter session (event {type: session} to every page)")},
        "/api/lookups/{id}/refusal": {"post": _op(
            "REFUS E-PRESCRIPTION (body {\"reason\": ...}, required): recorded in ePU, the lookup revised (revision + 1, "
            "warning refused_eprescription) and journaled; 201, 404 unknown id, 422 no reason or not an e-prescription, "
            "502 ePU refused or unreachable, 503 no ePU configured", {"$ref": "#/components/schemas/EpuLookup"},
            parameters=[{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}])},
        "/api/health": {"get": _op("Service status: 'ok', or 'degraded' with the current problems (journal not writable, sink failing, ePU unreachable)")},
        "/api/devices": {"get": _op("Readers the bridge knows and their state")},
        "/api/events": {"get": _op("WebSocket: {type: hello|lookup|device|health|session, ...} events; token as header, ?token= or subprotocol bearer.<token>")},
        "/api/openapi.json": {"get": _op("This description")},
        "/api/open-codes": {"post": _op("201 {url, expires_s}: a one-time link that opens the counter page logged in "
                                        "(the browser keeps the token as an HttpOnly SameSite=Strict cookie)")},
    },
}
