"""MQTT with real processes: two `electeur run` bridges, each with its own reader on a pty, one Mosquitto
broker, one subscriber that sees every read of both readers, in order per reader."""

from __future__ import annotations

import json
import signal
import threading

import paho.mqtt.client as mqtt
import pytest

from tests.bridge.test_bridge_e2e import PtyReader, payload, start_bridge, wait_until
from tests.bridge.test_bridge_run import free_port
from tests.bridge.test_bridge_sinks import mosquitto  # noqa: F401  (fixture: a real broker on a free loopback port)

pytest.importorskip("host_bridge.link.reader_link")
READS = 60


@pytest.mark.slow
def test_two_bridge_processes_one_broker_one_subscriber_in_order_per_reader(tmp_path, mosquitto):  # noqa: F811
    seen: list[dict] = []
    subscribed = threading.Event()
    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    sub.on_connect = lambda c, u, f, rc, p: c.subscribe("pharmacie/+/lookup", qos=1)
    sub.on_subscribe = lambda *a: subscribed.set()
    sub.on_message = lambda c, u, msg: seen.append({"topic": msg.topic, **json.loads(msg.payload)})
    sub.connect("127.0.0.1", mosquitto)
    sub.loop_start()
    assert subscribed.wait(5)

    config = tmp_path / "electeur.toml"
    config.write_text(f'[sinks]\nmqtt = {{host = "127.0.0.1", port = {mosquitto}, prefix = "pharmacie"}}\n[epu]\nenabled = false\n')
    readers = [PtyReader(tmp_path / f"counter-{n}", n, count=READS) for n in (1, 2)]
    bridges = [start_bridge(tmp_path, free_port(), [r], "--config", str(config), name=f"bridge-{r.id}") for r in readers]
    try:
        for r in readers:
            threading.Thread(target=r.run, daemon=True).start()
        wait_until(lambda: len(seen) >= 2 * READS, 60, "every lookup on the broker")
    finally:
        for r in readers:
            r.stop.set()
        for b in bridges:
            b.send_signal(signal.SIGTERM)
            b.wait(10)
        sub.loop_stop()
    for n in (1, 2):
        mine = [m for m in seen if m["source"]["reader"] == f"reader-{n}"]
        assert [m["text"] for m in mine] == [payload(n, k) for k in range(READS)]
        assert {m["topic"] for m in mine} == {f"pharmacie/reader-{n}/lookup"}
