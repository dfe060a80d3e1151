"""Local API: token on every /api route, Origin checks, cursor paging, manual entry, live events."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from host_bridge.bridge.api import Api
from host_bridge.bridge.journal import Journal
from host_bridge.payloads.lookup import build_lookup

TOKEN = "s3cret-token"


def read(n: int) -> dict:
    return build_lookup(f"code {n}".encode(), source={"reader": "r1", "read_id": str(n)})


def run(tmp_path, scenario):
    """Serve a real API on a loopback port and run `scenario(journal, base_url, http_session)`."""
    async def main():
        journal = Journal(tmp_path / "j.sqlite")
        api = Api(journal, token=TOKEN, origins=set())
        server = TestServer(api.build(), host="127.0.0.1")
        await server.start_server()
        base = f"http://127.0.0.1:{server.port}"
        api.origins = {base}  # the page's own origin
        try:
            async with aiohttp.ClientSession() as http:
                await scenario(journal, base, http)
        finally:
            await server.close()
            journal.close()
    asyncio.run(main())


def auth(token: str = TOKEN) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("path", ["/api/lookups", "/api/lookups/x", "/api/health", "/api/devices",
                                  "/api/openapi.json", "/api/events"])
def test_every_api_route_refuses_requests_without_or_with_wrong_token(tmp_path, path):
    async def scenario(journal, base, http):
        for headers in ({}, auth("wrong"), {"Authorization": TOKEN}):
            async with http.get(base + path, headers=headers) as r:
                assert r.status == 401, (path, headers)
                assert "token" in (await r.json())["error"]
    run(tmp_path, scenario)


def test_lookups_page_through_cursor_and_one_by_id(tmp_path):
    async def scenario(journal, base, http):
        for n in range(5):
            journal.record(read(n))
        async with http.get(base + "/api/lookups?limit=3", headers=auth()) as r:
            first = await r.json()
        async with http.get(base + "/api/lookups", params={"after": first["next"]}, headers=auth()) as r:
            rest = await r.json()
        assert [lk["source"]["read_id"] for lk in first["lookups"] + rest["lookups"]] == list("01234")
        async with http.get(base + "/api/lookups", params={"after": rest["next"]}, headers=auth()) as r:
            assert await r.json() == {"lookups": [], "next": rest["next"]}
        async with http.get(base + "/api/lookups?last=2", headers=auth()) as r:
            assert await r.json() == {"lookups": [read(3), read(4)], "next": rest["next"]}
        async with http.get(base + f"/api/lookups/{read(2)['id']}", headers=auth()) as r:
            assert (await r.json())["id"] == read(2)["id"]
        async with http.get(base + "/api/lookups/nope", headers=auth()) as r:
            assert r.status == 404
        async with http.get(base + "/api/lookups?after=xyz", headers=auth()) as r:
            assert r.status == 400 and "cursor" in (await r.json())["error"]
        async with http.get(base + "/api/lookups?limit=ten", headers=auth()) as r:
            assert r.status == 400 and "whole numbers" in (await r.json())["error"]
        async with http.get(base + "/api/openapi.json", headers=auth()) as r:
            assert "/api/lookups" in (await r.json())["paths"]
    run(tmp_path, scenario)


def test_browser_request_and_websocket_from_another_origin_are_refused(tmp_path):
    async def scenario(journal, base, http):
        evil = {"Origin": "http://evil.example", **auth()}
        async with http.get(base + "/api/lookups", headers=evil) as r:
            assert r.status == 403
        with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
            await http.ws_connect(base + f"/api/events?token={TOKEN}", headers={"Origin": "http://evil.example"})
        assert exc.value.status == 403
        with pytest.raises(aiohttp.WSServerHandshakeError) as exc:
            await http.ws_connect(base + "/api/events")
        assert exc.value.status == 401
    run(tmp_path, scenario)


def test_websocket_from_own_origin_gets_live_lookups_and_manual_entry_is_journaled(tmp_path):
    async def scenario(journal, base, http):
        own = base
        ws = await http.ws_connect(base + "/api/events", protocols=[f"bearer.{TOKEN}"], headers={"Origin": own})
        assert (await ws.receive_json(timeout=5))["type"] == "hello"
        await asyncio.get_running_loop().run_in_executor(None, journal.record, read(7))
        event = await ws.receive_json(timeout=5)
        assert event["type"] == "lookup" and event["lookup"]["id"] == read(7)["id"]

        async with http.post(base + "/api/lookups/manual", json={"code": "K7P3 9QXA 2M4T B8RD"}, headers={"Origin": own, **auth()}) as r:
            assert r.status == 201
            typed = await r.json()
        assert (await ws.receive_json(timeout=5))["lookup"]["id"] == typed["id"]
        assert journal.get(typed["id"])["source"]["engine"] == "manual"
        async with http.post(base + "/api/lookups/manual", data="not json", headers=auth()) as r:
            assert r.status == 400
        await ws.close()
    run(tmp_path, scenario)
