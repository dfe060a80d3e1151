"""The ePU sandbox: a real HTTP server on loopback, backed by SQLite, standing in for the tele-service.

API v1 (JSON; every route but /v1/health needs `Authorization: Bearer <token>`), see docs/epu.md:
  GET  /v1/health
  GET  /v1/prescriptions/{number}
  POST /v1/prescriptions                         {"number", "prescriber", "patient", "lines", "renewals"}
  POST /v1/prescriptions/{number}/dispensations  {"type": total|partial|refused, "reason", "lines", "transmit": now|batch}
  POST /v1/prescriptions/{number}/cancel
  POST /v1/transmissions                         {"until"?}: the daily batch of dispensations "À transmettre"
"""

from __future__ import annotations

import asyncio
import hmac
import json
import threading
from pathlib import Path
from typing import Any

from aiohttp import web

from host_bridge.epu.client import SANDBOX_TOKEN
from host_bridge.testbench.epu_store import EpuStore, Refused
from host_bridge.payloads.manual import normalise_code
from host_bridge.payloads.validators import prescription_number

API_VERSION = "1"


def _error(exc: Refused) -> web.Response:
    return web.json_response({"error": exc.code, "message": str(exc)}, status=exc.status)


def _number(request: web.Request) -> str:
    number = normalise_code(request.match_info["number"])
    problem = prescription_number(number)
    if problem:
        raise Refused(400, "bad_number", problem)
    return number


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise Refused(400, "bad_json", "request body must be a JSON object") from None
    if not isinstance(body, dict):
        raise Refused(400, "bad_json", "request body must be a JSON object")
    return body


def make_app(store: EpuStore, token: str = SANDBOX_TOKEN, *, delay_s: float = 0,
             fail_status: int | None = None) -> web.Application:
    """The aiohttp application over `store`; every error is a JSON body with a stable `error` code.
    Fault injection (docs/epu.md): `delay_s` before every /v1/prescriptions answer, `fail_status` instead of it."""

    @web.middleware
    async def guard(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.path != "/v1/health":
            await asyncio.sleep(delay_s)
            if fail_status:
                return web.json_response({"error": "injected_fault", "message": f"sandbox told to fail with {fail_status}"},
                                         status=fail_status)
            given = request.headers.get("Authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
                return web.json_response({"error": "unauthorized", "message": "bearer token required"}, status=401)
        try:
            return await handler(request)
        except Refused as exc:
            return _error(exc)

    async def health(request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "service": "epu-sandbox", "api": API_VERSION})

    async def consult(request: web.Request) -> web.Response:
        return web.json_response(store.get(_number(request)))

    async def register(request: web.Request) -> web.Response:
        body = await _body(request)
        number = normalise_code(str(body.get("number", "")))
        if problem := prescription_number(number):
            raise Refused(400, "bad_number", problem)
        renewals = body.get("renewals", 0)
        if not isinstance(renewals, int) or isinstance(renewals, bool) or not 0 <= renewals <= 12:
            raise Refused(400, "bad_renewals", "renewals must be a whole number of renewals, 0 to 12")
        store.register(number, {**{k: body.get(k) for k in ("prescriber", "patient", "lines")}, "renewals": renewals})
        return web.json_response(store.get(number), status=201)

    async def dispense(request: web.Request) -> web.Response:
        number, body = _number(request), await _body(request)
        lines = body.get("lines") if isinstance(body.get("lines"), list) else None
        reason = body.get("reason") if isinstance(body.get("reason"), str) else None
        return web.json_response(store.dispense(number, str(body.get("type")), reason=reason, lines=lines,
                                                transmit=str(body.get("transmit", "now"))), status=201)

    async def transmissions(request: web.Request) -> web.Response:
        until = (await _body(request)).get("until")
        if until is not None and not isinstance(until, str):
            raise Refused(400, "bad_until", "until must be an ISO-8601 time")
        return web.json_response({"transmitted": store.transmit_pending(until)})

    async def cancel(request: web.Request) -> web.Response:
        return web.json_response(store.cancel(_number(request)))

    app = web.Application(middlewares=[guard], client_max_size=64 * 1024)
    app.add_routes([web.get("/v1/health", health), web.get("/v1/prescriptions/{number}", consult),
                    web.post("/v1/prescriptions", register),
                    web.post("/v1/prescriptions/{number}/dispensations", dispense),
                    web.post("/v1/prescriptions/{number}/cancel", cancel),
                    web.post("/v1/transmissions", transmissions)])
    return app


class SandboxServer:
    """Run the sandbox in a background thread (tests, demo); `url` is set once it listens."""

    def __init__(self, db: str | Path = ":memory:", *, port: int = 0, token: str = SANDBOX_TOKEN, delay_s: float = 0,
                 fail_status: int | None = None) -> None:
        self.store = EpuStore(db)
        self.token, self.port = token, port
        self.faults = {"delay_s": delay_s, "fail_status": fail_status}
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="epu-sandbox", daemon=True)

    def start(self) -> "SandboxServer":
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=10)
        return self

    async def _start(self) -> None:
        self._runner = web.AppRunner(make_app(self.store, self.token, **self.faults), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        if self._runner:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self.store.close()

    def __enter__(self) -> "SandboxServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
