"""Sinks through the dispatcher: JSON lines, webhook retries, MQTT on a real Mosquitto broker."""

from __future__ import annotations

import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import paho.mqtt.client as mqtt
import pytest

from host_bridge.bridge.dispatch import Dispatcher
from host_bridge.bridge.journal import Journal
from host_bridge.payloads.lookup import build_lookup
from host_bridge.bridge.sinks.mqtt import MqttSink
from host_bridge.bridge.sinks.stdout import StdoutSink
from host_bridge.bridge.sinks.webhook import WebhookSink
from host_bridge.testbench.fault_rig import Broker, free_port


def read(n: int, reader: str = "r1") -> dict:
    return build_lookup(f"code {n}".encode(), source={"reader": reader, "read_id": str(n)})


def wait_for(cond, timeout_s: float = 10.0) -> None:
    end = time.monotonic() + timeout_s
    while not cond():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.02)


def test_stdout_sink_writes_json_lines_and_restart_sends_only_the_rest(tmp_path):
    path = tmp_path / "j.sqlite"
    out = io.StringIO()
    j = Journal(path)
    d = Dispatcher(j, [StdoutSink(out)])
    d.start()
    for n in range(3):
        j.record(read(n))
    wait_for(lambda: out.getvalue().count("\n") == 3)
    d.stop()
    j.record(read(3))  # recorded while the sink was down
    j.close()

    out2 = io.StringIO()
    j2 = Journal(path)
    d2 = Dispatcher(j2, [StdoutSink(out2)])
    d2.start()
    wait_for(lambda: out2.getvalue().count("\n") == 1)
    d2.stop()
    assert [json.loads(line)["id"] for line in out.getvalue().splitlines()] == [read(n)["id"] for n in range(3)]
    assert json.loads(out2.getvalue())["id"] == read(3)["id"]


def test_webhook_is_retried_with_backoff_until_accepted_with_idempotency_key(tmp_path):
    got: list[tuple[str, dict]] = []
    failures = [503, 500]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            status = failures.pop(0) if failures else 204
            if status == 204:
                got.append((self.headers["Idempotency-Key"], body))
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    j = Journal(tmp_path / "j.sqlite")
    sink = WebhookSink(f"http://127.0.0.1:{server.server_port}/lgo")
    d = Dispatcher(j, [sink], backoff_s=0.05)
    d.start()
    try:
        j.record(read(1))
        j.record(read(2))
        wait_for(lambda: len(got) == 2)
        wait_for(lambda: not j.undelivered(sink.name))
    finally:
        d.stop()
        server.shutdown()
    assert [key for key, _ in got] == [read(1)["id"], read(2)["id"]]
    assert got[0][1]["id"] == got[0][0] and failures == []


def test_unreachable_webhook_keeps_the_lookup_undelivered(tmp_path):
    j = Journal(tmp_path / "j.sqlite")
    sink = WebhookSink(f"http://127.0.0.1:{free_port()}/", timeout_s=0.5)
    d = Dispatcher(j, [sink], backoff_s=0.05)
    d.start()
    j.record(read(1))
    time.sleep(0.4)
    d.stop()
    assert [lk["id"] for _, lk in j.undelivered(sink.name)] == [read(1)["id"]]


@pytest.fixture
def mosquitto(tmp_path):
    """A real broker on a free loopback port (the fault rig's)."""
    broker = Broker(tmp_path).start()
    try:
        yield broker.port
    finally:
        broker.stop()


def test_two_bridges_one_broker_one_subscriber_sees_both_readers_in_order(tmp_path, mosquitto):
    seen: list[dict] = []
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    sub.on_message = lambda c, u, msg: seen.append({"topic": msg.topic, **json.loads(msg.payload)})
    subscribed = threading.Event()
    sub.on_subscribe = lambda *a: subscribed.set()
    sub.on_connect = lambda c, u, f, rc, p: c.subscribe("electeur/+/lookup", qos=1)
    sub.connect("127.0.0.1", mosquitto)
    sub.loop_start()
    assert subscribed.wait(5)

    bridges = []
    for name in ("counter-1", "counter-2"):
        j = Journal(tmp_path / f"{name}.sqlite")
        d = Dispatcher(j, [MqttSink("127.0.0.1", mosquitto)])
        d.start()
        bridges.append((name, j, d))
    try:
        for n in range(20):
            for name, j, _ in bridges:
                j.record(read(n, reader=name))
        wait_for(lambda: len(seen) == 40)
    finally:
        for _, j, d in bridges:
            d.stop()
        sub.loop_stop()
    for name, _, _ in bridges:
        mine = [m for m in seen if m["source"]["reader"] == name]
        assert [m["source"]["read_id"] for m in mine] == [str(n) for n in range(20)]
        assert {m["topic"] for m in mine} == {f"electeur/{name}/lookup"}
