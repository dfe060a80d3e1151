"""`electeur run` stops promptly on SIGTERM (what `systemctl stop` sends) whatever is connected to it."""

from __future__ import annotations

import signal
import time

import pytest
from websockets.sync.client import connect

from host_bridge.testbench.fault_rig import free_port
from tests.bridge.test_bridge_run import start
from tests.bridge.test_counter_page import CHROMIUM_ARGS

TOKEN = "shutdown-test-token-0123456789"


def stopped_within(proc, seconds: float) -> float:
    """Send SIGTERM and return how long the process took to exit (fails past `seconds`)."""
    began = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        assert proc.wait(seconds) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return time.monotonic() - began


@pytest.mark.slow
def test_sigterm_with_a_bare_websocket_client_stops_within_2_s(tmp_path):
    port = free_port()
    proc = start(tmp_path, port, "--token", TOKEN)
    with connect(f"ws://127.0.0.1:{port}/api/events", subprotocols=[f"bearer.{TOKEN}"]) as ws:
        assert '"hello"' in ws.recv(5)
        stopped_within(proc, 2.0)
        with pytest.raises(Exception):   # the bridge closed the socket: the client learns it at once
            ws.recv(1)


@pytest.mark.slow
def test_sigterm_with_the_counter_page_open_stops_within_2_s_and_the_page_says_hors_ligne(tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    port = free_port()
    proc = start(tmp_path, port, "--token", TOKEN)
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{port}/#token={TOKEN}")
        page.wait_for_selector("#link.on")
        stopped_within(proc, 2.0)
        playwright.expect(page.locator("#link")).to_have_text("hors ligne", timeout=3000)
        browser.close()
