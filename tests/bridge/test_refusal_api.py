"""REFUS E-PRESCRIPTION through the bridge API: a reason is required, ePU records it, the lookup is revised
and journaled, and the same QR read again says it was refused."""

from __future__ import annotations

import asyncio
from functools import partial

import aiohttp
from aiohttp.test_utils import TestServer

import payload_examples as ex
from host_bridge.bridge.api import Api
from host_bridge.bridge.journal import Journal
from host_bridge.bridge.refusal import refuse
from host_bridge.epu.client import EpuClient
from host_bridge.payloads import build_lookup
from host_bridge.testbench.epu_sandbox import SandboxServer

TOKEN = "t"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def read(data: bytes, n: int) -> dict:
    return build_lookup(data, source={"reader": "r1", "read_id": str(n), "engine": "zxing", "time": "2026-11-23T10:00:00+00:00"})


def test_refusal_needs_a_reason_is_recorded_in_epu_and_journaled(tmp_path) -> None:
    async def main(epu: EpuClient) -> None:
        journal = Journal(tmp_path / "j.sqlite")
        events: list[dict] = []
        journal.on_record(lambda seq, lookup: events.append(lookup))
        prescription = epu.attach(read(ex.ordonnance(), 1))
        pack = read(ex.gs1(), 2)
        journal.record(prescription)
        journal.record(pack)
        api = Api(journal, token=TOKEN, origins=set(), refuse=partial(refuse, journal, epu))
        server = TestServer(api.build(), host="127.0.0.1")
        await server.start_server()
        api.origins = {f"http://127.0.0.1:{server.port}"}  # the bridge's own address
        base = f"http://127.0.0.1:{server.port}/api/lookups"
        try:
            async with aiohttp.ClientSession(headers=AUTH) as http:
                async with http.post(f"{base}/{prescription['id']}/refusal", json={"reason": "   "}) as r:
                    assert r.status == 422 and "motif obligatoire" in (await r.json())["error"]
                async with http.post(f"{base}/{prescription['id']}/refusal", data=b"{") as r:
                    assert r.status == 400
                async with http.post(f"{base}/{pack['id']}/refusal", json={"reason": "x"}) as r:
                    assert r.status == 422 and "ordonnance numérique" in (await r.json())["error"]
                async with http.post(f"{base}/{'0' * 32}/refusal", json={"reason": "x"}) as r:
                    assert r.status == 404
                async with http.post(f"{base}/{prescription['id']}/refusal",
                                     json={"reason": "Patient différent de l'ordonnance"}) as r:
                    assert r.status == 201
                    revised = await r.json()
        finally:
            await server.close()
        assert revised["revision"] == 2 and revised["epu"]["refusal"]["reason"] == "Patient différent de l'ordonnance"
        assert [w["code"] for w in revised["warnings"]] == ["refused_eprescription"]
        assert journal.get(prescription["id"]) == revised and events[-1] == revised   # journaled, sinks and page told
        journal.close()

    with SandboxServer() as sandbox:
        epu = EpuClient(sandbox.url)
        epu.register(ex.NUMBER, {})
        asyncio.run(main(epu))
        again = epu.attach(read(ex.ordonnance(), 3))   # the same QR presented again, another read
    assert [w["code"] for w in again["warnings"]] == ["refused_eprescription"]
    assert "délivrée comme une ordonnance classique" in again["warnings"][0]["message"]


def test_refusal_without_an_epu_is_503(tmp_path) -> None:
    async def main() -> None:
        journal = Journal(tmp_path / "j.sqlite")
        api = Api(journal, token=TOKEN, origins=set())
        server = TestServer(api.build(), host="127.0.0.1")
        await server.start_server()
        api.origins = {f"http://127.0.0.1:{server.port}"}
        try:
            async with aiohttp.ClientSession(headers=AUTH) as http:
                async with http.post(f"http://127.0.0.1:{server.port}/api/lookups/{'0' * 32}/refusal",
                                     json={"reason": "x"}) as r:
                    assert r.status == 503
        finally:
            await server.close()
            journal.close()
    asyncio.run(main())
