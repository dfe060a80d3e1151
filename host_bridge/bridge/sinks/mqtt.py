"""MQTT: one topic per reader (`<prefix>/<reader>/lookup`), QoS 1, for pharmacies with several
counters. A publish counts as delivered only once the broker has acknowledged it."""

from __future__ import annotations

import json
import re
from typing import Any

import paho.mqtt.client as mqtt


class MqttError(Exception):
    """The broker did not take the lookup."""


def topic_for(prefix: str, reader: str | None) -> str:
    """MQTT topic levels must not contain wildcards or separators coming from a reader's name."""
    safe = re.sub(r"[+#/\x00]", "_", reader or "unknown") or "unknown"
    return f"{prefix}/{safe}/lookup"


class MqttSink:
    def __init__(self, host: str, port: int = 1883, *, prefix: str = "electeur", client_id: str = "",
                 username: str | None = None, password: str | None = None, timeout_s: float = 5.0,
                 name: str | None = None) -> None:
        self.prefix = prefix
        self.timeout_s = timeout_s
        self.name = name or f"mqtt:{host}:{port}"
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        if username:
            self.client.username_pw_set(username, password)
        self.client.connect_async(host, port, keepalive=30)
        self.client.loop_start()

    def deliver(self, lookup: dict[str, Any]) -> None:
        topic = topic_for(self.prefix, (lookup.get("source") or {}).get("reader"))
        info = self.client.publish(topic, json.dumps(lookup, ensure_ascii=False), qos=1)
        try:
            info.wait_for_publish(self.timeout_s)
        except (RuntimeError, ValueError) as exc:
            raise MqttError(f"MQTT publish to {topic} failed: {exc}") from exc
        if not info.is_published():
            raise MqttError(f"MQTT broker did not acknowledge {topic} within {self.timeout_s} s")

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
