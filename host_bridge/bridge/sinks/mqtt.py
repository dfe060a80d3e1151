"""MQTT: one topic per reader (`<prefix>/<reader>/lookup`), QoS 1, for pharmacies with several
counters. A publish counts as delivered only once the broker has acknowledged it.

While the broker is down, paho keeps a QoS 1 message queued and sends it on reconnection; a retry
of the same lookup therefore waits for that queued message instead of publishing a second copy
(which the subscriber would receive twice).

With `tls` the connection is TLS with the broker's certificate verified (against `ca_file`, else the system's
CAs) and its host name checked, optionally with a client certificate: the CONNECT password and the lookups
(NIR, names) never cross the network in clear."""

from __future__ import annotations

import json
import re
import ssl
import threading
from typing import Any

import paho.mqtt.client as mqtt

from host_bridge.bridge.sinks import idempotency_key


class MqttError(Exception):
    """The broker did not take the lookup."""


def topic_for(prefix: str, reader: str | None) -> str:
    """MQTT topic levels must not contain wildcards or separators coming from a reader's name."""
    safe = re.sub(r"[+#/\x00]", "_", reader or "unknown") or "unknown"
    return f"{prefix}/{safe}/lookup"


class MqttSink:
    def __init__(self, host: str, port: int = 1883, *, prefix: str = "electeur", client_id: str = "",
                 username: str | None = None, password: str | None = None, timeout_s: float = 5.0,
                 reconnect_max_s: float = 30.0, name: str | None = None, tls: bool = False,
                 ca_file: str | None = None, cert_file: str | None = None, key_file: str | None = None) -> None:
        self.prefix = prefix
        self.timeout_s = timeout_s
        self.name = name or f"mqtt:{host}:{port}"
        self._acked: set[int] = set()
        self._queued: tuple[str, int] | None = None     # (lookup id, message id) published, not yet acknowledged
        self._cond = threading.Condition()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        self.client.on_publish = self._on_publish
        if username:
            self.client.username_pw_set(username, password)
        if tls:
            context = ssl.create_default_context(cafile=ca_file)   # CERT_REQUIRED, host name checked
            if cert_file:
                context.load_cert_chain(cert_file, key_file)
            self.client.tls_set_context(context)
        self.client.reconnect_delay_set(1, max(1, int(reconnect_max_s)))  # paho's default cap is 120 s
        self.client.connect_async(host, port, keepalive=30)
        self.client.loop_start()

    def _on_publish(self, client: Any, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
        with self._cond:
            self._acked.add(mid)
            self._cond.notify_all()

    def deliver(self, lookup: dict[str, Any]) -> None:
        topic = topic_for(self.prefix, (lookup.get("source") or {}).get("reader"))
        key = idempotency_key(lookup)
        if self._queued is None or self._queued[0] != key:
            info = self.client.publish(topic, json.dumps(lookup, ensure_ascii=False), qos=1)
            if info.rc == mqtt.MQTT_ERR_QUEUE_SIZE:
                raise MqttError(f"MQTT publish to {topic} failed: {mqtt.error_string(info.rc)}")
            self._queued = (key, info.mid)      # queued by paho even when not connected (rc NO_CONN)
        mid = self._queued[1]
        connected = self.client.is_connected()
        with self._cond:   # not connected: fail at once, the dispatcher's back-off paces the next look
            if not self._cond.wait_for(lambda: mid in self._acked, self.timeout_s if connected else 0):
                raise MqttError(f"MQTT broker did not acknowledge {topic} within {self.timeout_s} s; the message "
                                "stays queued" if connected else "MQTT broker not connected; the message stays queued")
            self._acked.clear()
        self._queued = None

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
