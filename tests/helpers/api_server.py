"""The real bridge API (`Api.build()`) on a loopback port, in a thread with its own event loop, for tests
that drive it from synchronous code (a browser, http.client, raw sockets)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

from aiohttp import web

from host_bridge.bridge.api import Api, own_origins
from host_bridge.bridge.journal import Journal


class ApiServer:
    """Serves `Api(journal, token=...)`; its own origins are the loopback names of the port it got."""

    def __init__(self, journal: Journal, token: str, devices: Callable[[], list[dict[str, Any]]] = list) -> None:
        self.journal = journal
        self.loop = asyncio.new_event_loop()
        self.port = 0
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.api = Api(journal, token=token, origins=set(), devices=devices)
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)

    async def _start(self) -> None:
        self.runner = web.AppRunner(self.api.build())
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        self.api.origins = own_origins("127.0.0.1", self.port)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
