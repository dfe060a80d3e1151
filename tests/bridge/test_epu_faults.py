"""The ePU service slow, failing or answering nonsense: every e-prescription read still gives its lookup
(exact bytes, fields) with a visible `epu_unreachable` warning, within the client's timeout; nothing raises.

A faulty HTTP server stands in for ePU (the real tele-service cannot run here; the sandbox is well-behaved)."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import jsonschema
import pytest

import payload_examples as ex
from conftest import REPO
from host_bridge.epu.client import EpuClient
from host_bridge.payloads import now_source
from host_bridge.counter.pipeline import LookupPipeline

SCHEMA = json.loads((REPO / "docs/schemas/epu-lookup.v1.json").read_text())
TIMEOUT = 0.5
FAULTS = {   # name -> (delay s, HTTP status, body)
    "slow": (TIMEOUT * 3, 200, b'{"state": "available"}'),
    "error-500-html": (0, 500, b"<html>Internal Server Error</html>"),
    "error-503-json": (0, 503, b'{"error": "maintenance", "message": "down for maintenance"}'),
    "garbage": (0, 200, b"\x00\xff not json"),
    "json-list": (0, 200, b"[1, 2, 3]"),
    "state-not-a-string": (0, 200, b'{"state": ["available"]}'),
    "state-unheard-of": (0, 200, b'{"state": "teleported"}'),
    "truncated": (0, 200, b'{"state": "avail'),
}


@pytest.fixture(scope="module")
def faulty_epu() -> Iterator[str]:
    """An HTTP server whose answer depends on the first path segment: /<fault>/v1/prescriptions/..."""
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            delay, status, body = FAULTS[self.path.split("/")[1]]
            time.sleep(delay)
            try:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass                    # the client gave up (timeout)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _read_through(base_url: str) -> tuple[dict, float]:
    pipeline = LookupPipeline(epu=EpuClient(base_url, timeout=TIMEOUT))
    started = time.monotonic()
    lookup = pipeline.lookup(ex.ordonnance(), now_source("counter-1", read_id="7"))
    return lookup, time.monotonic() - started


CASES = sorted(FAULTS) + ["down"]


@pytest.mark.parametrize("fault", CASES)
def test_epu_fault_gives_the_lookup_with_a_visible_warning(faulty_epu: str, fault: str) -> None:
    url = f"http://127.0.0.1:{_closed_port()}" if fault == "down" else f"{faulty_epu}/{fault}"
    lookup, seconds = _read_through(url)
    assert base64.b64decode(lookup["bytes_b64"]) == ex.ordonnance()          # the read is kept, exact
    assert lookup["kind"] == "ordonnance" and lookup["fields"]["prescription_number"] == ex.NUMBER
    assert seconds < TIMEOUT + 1.0                                            # the counter is not held up
    jsonschema.validate(lookup, SCHEMA)
    assert lookup["epu"]["state"] == "unreachable" and lookup["status"] == "warning"
    assert any(w["code"] == "epu_unreachable" for w in lookup["warnings"])   # what the pharmacist sees
