"""The local API against the LAN, a rebinding page and slow clients: Host checked, CSP to its own origin, no
frames, refused-origin warnings rate-limited, half-sent connections bounded, and no LAN bind without TLS."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import threading
import time

import aiohttp
import pytest

from host_bridge.bridge import api as api_module
from host_bridge.bridge.api import Api, own_origins
from host_bridge.bridge.config import Config
from host_bridge.bridge.journal import Journal
from host_bridge.bridge.redact import Redactor
from host_bridge.bridge.service import Bridge
from host_bridge.errors import UserError
from host_bridge.testbench.fault_rig import free_port
from tests.bridge.test_counter_page import CHROMIUM_ARGS
from tests.helpers.api_server import ApiServer
from tests.helpers.tls_certs import Ca

TOKEN = "s3cret-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def server(tmp_path):
    journal = Journal(tmp_path / "j.sqlite")
    srv = ApiServer(journal, TOKEN)
    yield srv
    srv.stop()
    journal.close()


def get(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], str]:
    async def go():
        async with aiohttp.ClientSession() as http, http.get(url, headers=headers) as r:
            return r.status, dict(r.headers), await r.text()
    return asyncio.run(go())


def test_a_request_naming_another_host_is_refused_even_with_the_token(server):
    status, _, body = get(f"{server.base}/api/health", {**AUTH, "Host": f"rebind.attacker.example:{server.port}"})
    assert status == 421 and "not this bridge's address" in body
    assert get(f"{server.base}/", {"Host": f"rebind.attacker.example:{server.port}"})[0] == 421
    assert get(f"{server.base}/api/health", AUTH)[0] == 200


def test_the_page_connects_only_to_its_own_origin_and_is_never_framed(server):
    status, headers, _ = get(f"{server.base}/", {})
    csp = headers["Content-Security-Policy"]
    assert status == 200 and "frame-ancestors 'none'" in csp and headers["X-Frame-Options"] == "DENY"
    connect = next(d for d in csp.split(";") if d.strip().startswith("connect-src")).split()[1:]
    assert connect == ["'self'", f"ws://127.0.0.1:{server.port}"]        # was: any ws: or wss: host


def test_refused_cross_origin_requests_are_one_log_line_not_one_each(server, caplog):
    async def flood():
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                async with http.get(f"{server.base}/api/health", headers={**AUTH, "Origin": "https://evil.example"}) as r:
                    assert r.status == 403
    with caplog.at_level(logging.WARNING, logger="electeur.bridge.api"):
        asyncio.run(flood())
    assert len([r for r in caplog.records if "refused" in r.getMessage()]) == 1


def test_half_sent_requests_neither_exhaust_connections_nor_delay_the_health_probe(tmp_path, monkeypatch):
    monkeypatch.setattr(api_module, "IDLE_S", 0.5)

    async def scenario():
        journal = Journal(tmp_path / "j.sqlite")
        api = Api(journal, token=TOKEN, origins=set())
        runner = api.runner()
        await runner.setup()
        site = aiohttp.web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        api.origins = own_origins("127.0.0.1", port)
        slow = []
        for _ in range(200):                                   # headers never finished
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(f"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Slow: ".encode())
            slow.append((reader, writer))
        await asyncio.sleep(0.05)
        held = len(runner.server.connections)
        t0 = time.monotonic()
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}/api/health", headers=AUTH) as r:
            status, took = r.status, time.monotonic() - t0
        closed_by_server = 0
        for reader, writer in slow:
            try:
                closed_by_server += await asyncio.wait_for(reader.read(), 3) == b""
            except (TimeoutError, ConnectionError):
                pass
            writer.close()
        await runner.cleanup()
        journal.close()
        return held, status, took, closed_by_server

    held, status, took, closed = asyncio.run(scenario())
    assert held <= api_module.PER_CLIENT + 1           # the oldest half-sent ones were closed as new ones came
    assert status == 200 and took < 1.0
    assert closed == 200                               # every half-sent request closed (the rest after IDLE_S)


def test_a_lan_bind_without_tls_is_refused_with_what_to_set(tmp_path):
    cfg = Config(journal=tmp_path / "j.sqlite", journal_key=tmp_path / "k", epu=None, api_host="0.0.0.0")
    with pytest.raises(UserError, match="in clear; set api_cert and api_key .* and api_origins"):
        Bridge(cfg, TOKEN, Redactor())


@pytest.fixture
def tls_bridge(tmp_path, caplog):
    """A bridge serving TLS on 127.0.0.2 (not the loopback names, not the LAN) for one listed origin, in a
    thread; yields (origin, CA file, the log records of its start)."""
    ca = Ca(tmp_path)
    cert, key = ca.issue("bridge", ip="127.0.0.2")
    port = free_port()
    origin = f"https://127.0.0.2:{port}"
    cfg = Config(journal=tmp_path / "j.sqlite", journal_key=tmp_path / "k", epu=None, devices=[],
                 api_host="127.0.0.2", api_port=port, api_cert=cert, api_key=key, api_origins=[origin])
    with caplog.at_level(logging.WARNING, logger="electeur"):
        bridge = Bridge(cfg, TOKEN, Redactor())
    started = [r.getMessage() for r in caplog.records]
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    task = loop.create_task(bridge.serve(ready))

    def run() -> None:
        with contextlib.suppress(asyncio.CancelledError):
            loop.run_until_complete(task)
        loop.close()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield origin, ca.file, started
    finally:
        loop.call_soon_threadsafe(task.cancel)
        thread.join(10)


def test_a_lan_bind_serves_tls_to_the_listed_origins_and_says_so_loudly(tls_bridge):
    origin, ca_file, started = tls_bridge
    assert any("API OPEN TO THE NETWORK" in line for line in started)

    async def probe():
        trust = ssl.create_default_context(cafile=str(ca_file))
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{origin}/api/health", headers={**AUTH, "Origin": origin}, ssl=trust) as r:
                health = r.status
            async with http.get(f"{origin}/", ssl=trust) as r:
                csp = r.headers["Content-Security-Policy"]
            with pytest.raises(aiohttp.ClientError):
                await http.get(origin.replace("https:", "http:") + "/api/health", headers=AUTH)
        return health, csp

    health, csp = asyncio.run(probe())
    assert health == 200 and origin.replace("https:", "wss:") in csp


@pytest.mark.slow
def test_the_counter_page_works_over_tls_from_its_listed_origin(tls_bridge):
    """Before: with api = "0.0.0.0:..." the page looped on WebSocket 403 from any real address."""
    playwright = pytest.importorskip("playwright.sync_api")
    origin, _, _ = tls_bridge
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_context(ignore_https_errors=True).new_page()      # the test CA is not the system's
        page.goto(f"{origin}/#token={TOKEN}")
        page.wait_for_selector("#link.on", timeout=10_000)                  # the WebSocket (wss) is up
        page.fill("#code", "K7P3 9QXA 2M4T B8RD")                          # typed code: POST over https
        page.click("#manual button")
        playwright.expect(page.locator(".card")).to_have_count(1)
        browser.close()
