"""Sinks carry patients' identifiers: no redirect ever gets the LGO's token, TLS with verification to the
webhook (custom CA) and to a real Mosquitto (CA, client certificate, password file), a warning for every
cleartext sink, and minimised lookups for sinks that must not see who was read."""

from __future__ import annotations

import json
import logging
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import paho.mqtt.client as mqtt
import pytest

from host_bridge.bridge.config import Config, Mqtt, Webhook, load
from host_bridge.bridge.dispatch import Dispatcher
from host_bridge.bridge.health import Health
from host_bridge.bridge.journal import Journal
from host_bridge.bridge.redact import Redactor
from host_bridge.bridge.service import Bridge
from host_bridge.bridge.sinks import Minimised, minimise
from host_bridge.bridge.sinks.mqtt import MqttSink
from host_bridge.bridge.sinks.webhook import WebhookError, WebhookSink
from host_bridge.payloads.lookup import build_lookup
from host_bridge.testbench.fault_rig import Broker
from tests.bridge.test_bridge_sinks import wait_for
from tests.helpers.tls_certs import Ca


def ins_lookup() -> dict:
    payload = "IS" + "01" + "0" * 22 + "S1186016926212170S21.2.250.1.213.1.4.8\x1dS3ZOE\x1dS4LE GALL\x1dS5MS624-01-1986S769262"
    return build_lookup(payload.encode(), source={"reader": "r1", "read_id": "1"})


class Recorder(BaseHTTPRequestHandler):
    """Answers `self.server.answer(handler)`; every request is kept in `self.server.seen`."""

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.server.seen.append((self.command, self.path, dict(self.headers), self.rfile.read(length)))
        status, headers = self.server.answer(self)
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = _any

    def log_message(self, *args):
        pass


def serve(answer, tls: ssl.SSLContext | None = None) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.seen, server.answer = [], answer
    if tls:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_a_redirect_is_a_failed_delivery_and_the_token_never_reaches_the_other_host(tmp_path):
    elsewhere = serve(lambda h: (200, {}))
    lgo = serve(lambda h: (302, {"Location": f"http://127.0.0.1:{elsewhere.server_port}/steal"}))
    j, health = Journal(tmp_path / "j.sqlite"), Health()
    sink = WebhookSink(f"http://127.0.0.1:{lgo.server_port}/lookups", token="lgo-secret-token")
    d = Dispatcher(j, [sink], backoff_s=0.05, health=health)
    d.start()
    try:
        j.record(ins_lookup())
        wait_for(lambda: len(lgo.seen) >= 2)
    finally:
        d.stop()
        lgo.shutdown()
        elsewhere.shutdown()
    assert elsewhere.seen == []                 # was: a GET with the bearer token and Idempotency-Key, counted delivered
    assert len(j.undelivered(sink.name)) == 1
    assert "redirect" in health.problems()[0]["message"] and "not followed" in health.problems()[0]["message"]


def test_an_http_to_https_redirect_says_use_https():
    lgo = serve(lambda h: (301, {"Location": f"https://127.0.0.1:{h.server.server_port}/lookups"}))
    try:
        with pytest.raises(WebhookError, match=f"use https://127.0.0.1:{lgo.server_port}/lookups"):
            WebhookSink(f"http://127.0.0.1:{lgo.server_port}/lookups").deliver(ins_lookup())
    finally:
        lgo.shutdown()


def test_webhook_over_https_verifies_against_a_configured_ca(tmp_path):
    ca = Ca(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(*ca.issue("lgo"))
    lgo = serve(lambda h: (204, {}), tls)
    url = f"https://127.0.0.1:{lgo.server_port}/lookups"
    try:
        with pytest.raises(WebhookError, match="CERTIFICATE_VERIFY_FAILED"):
            WebhookSink(url).deliver(ins_lookup())          # verification is on: an unknown CA is refused
        WebhookSink(url, ca_file=str(ca.file), token="t").deliver(ins_lookup())
    finally:
        lgo.shutdown()
    assert [(m, h["Authorization"]) for m, _, h, _ in lgo.seen[-1:]] == [("POST", "Bearer t")]


def test_minimised_lookups_name_nobody():
    full = ins_lookup()
    assert full["fields"]["patient_family_name"] == "LE GALL"
    small = minimise(full)
    text = json.dumps(small, ensure_ascii=False)
    for identifier in ("LE GALL", "ZOE", "186016926212170", "1986"):
        assert identifier not in text
    assert small["kind"] == "ins" and small["id"] == full["id"] and small["minimised"] is True


@pytest.fixture
def tls_broker(tmp_path):
    """Mosquitto over TLS only: server certificate from a test CA, client certificate and password required."""
    ca = Ca(tmp_path)
    cert, key = ca.issue("broker")
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(tmp_path / "passwd"), "bridge", "s3cret"], check=True)
    (tmp_path / "passwd").chmod(0o600)
    broker = Broker(tmp_path, f"cafile {ca.file}\ncertfile {cert}\nkeyfile {key}\nrequire_certificate true\n"
                              f"allow_anonymous false\npassword_file {tmp_path / 'passwd'}\n").start()
    try:
        yield broker.port, ca
    finally:
        broker.stop()


def test_mqtt_over_tls_with_client_certificate_and_password_against_mosquitto(tmp_path, tls_broker):
    port, ca = tls_broker
    client_cert, client_key = ca.issue("bridge-client", client=True)
    got: list[dict] = []
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    sub.username_pw_set("bridge", "s3cret")
    sub.tls_set(ca_certs=str(ca.file), certfile=str(client_cert), keyfile=str(client_key))
    subscribed = threading.Event()
    sub.on_connect = lambda c, u, f, rc, p: c.subscribe("electeur/+/lookup", qos=1)
    sub.on_subscribe = lambda *a: subscribed.set()
    sub.on_message = lambda c, u, msg: got.append(json.loads(msg.payload))
    sub.connect("127.0.0.1", port)
    sub.loop_start()
    sink = MqttSink("127.0.0.1", port, username="bridge", password="s3cret", tls=True, ca_file=str(ca.file),
                    cert_file=str(client_cert), key_file=str(client_key))
    wrong = MqttSink("127.0.0.1", port, username="bridge", password="s3cret", tls=True)   # system CAs: refused
    try:
        assert subscribed.wait(10)
        wait_for(sink.client.is_connected)    # the TLS handshake runs in paho's thread: a sink not yet connected
        Minimised(sink).deliver(ins_lookup())  # refuses at once (the dispatcher retries), as it should
        wait_for(lambda: got)
        with pytest.raises(Exception, match="not connected"):
            wrong.deliver(ins_lookup())
    finally:
        for client in (sink, wrong):
            client.close()
        sub.loop_stop()
        sub.disconnect()
    assert got[0]["id"] == ins_lookup()["id"] and got[0]["minimised"] and "LE GALL" not in json.dumps(got)


def test_every_cleartext_sink_beyond_this_machine_is_warned_about_at_start(tmp_path, caplog):
    cfg = Config(journal=tmp_path / "j.sqlite", journal_key=tmp_path / "k", epu=None,
                 webhooks=[Webhook("http://10.0.0.9:9000/a"), Webhook("http://127.0.0.1:9/b"),
                           Webhook("https://lgo.example:9/c")],
                 mqtt=Mqtt("10.0.0.8", 9, minimal=True))
    with caplog.at_level(logging.WARNING, logger="electeur"):
        bridge = Bridge(cfg, "t" * 20, Redactor())
    for sink in bridge.dispatcher.sinks:
        sink.close()
    bridge.journal.close()
    lines = [r.getMessage() for r in caplog.records if "IN CLEAR" in r.getMessage()]
    assert len(lines) == 2
    assert "10.0.0.9" in lines[0] and "identifiers" in lines[0] and "https://" in lines[0]
    assert "10.0.0.8" in lines[1] and "minimised" in lines[1] and "tls = true" in lines[1]


def test_mqtt_with_tls_defaults_to_port_8883(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text('[sinks]\nmqtt = {host = "broker", tls = true, minimal = true}\n')
    m = load(path).mqtt
    assert (m.port, m.tls, m.minimal) == (8883, True, True)
