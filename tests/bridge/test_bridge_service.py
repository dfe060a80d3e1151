"""Service wiring: sinks built from the config, `auto` opens the ports whose VID/PID is a reader board's."""

from __future__ import annotations

from types import SimpleNamespace

from host_bridge.bridge import devices, service
from host_bridge.bridge.config import Config, Mqtt, Webhook
from host_bridge.bridge.redact import Redactor
from host_bridge.bridge.service import Bridge


def test_sinks_come_from_the_config(tmp_path):
    cfg = Config(journal=tmp_path / "j.sqlite", journal_key=tmp_path / "journal.key", epu=None, stdout=True,
                 webhooks=[Webhook("http://127.0.0.1:9/a"), Webhook("http://127.0.0.1:9/b", token="x")],
                 mqtt=Mqtt("127.0.0.1", 9))
    bridge = Bridge(cfg, "t" * 20, Redactor())
    names = [s.name for s in bridge.dispatcher.sinks]
    assert names == ["stdout", "webhook:http://127.0.0.1:9/a", "webhook:http://127.0.0.1:9/b", "mqtt:127.0.0.1:9"]
    bridge.dispatcher.stop(0.1)
    bridge.journal.close()


def test_auto_opens_only_ports_of_known_boards(tmp_path, monkeypatch):
    ports = [SimpleNamespace(device="/dev/ttyUSB7", vid=0x1A86, pid=0x7523, description="USB-SERIAL CH340", serial_number="1"),
             SimpleNamespace(device="/dev/ttyACM3", vid=0x2341, pid=0x0043, description="Arduino Uno", serial_number="2"),
             SimpleNamespace(device="/dev/ttyS0", vid=None, pid=None, description="n/a", serial_number=None)]
    monkeypatch.setattr(devices.list_ports, "comports", lambda: ports)
    opened = []
    monkeypatch.setattr(service.ReaderPort, "start", lambda self: opened.append(self.device))
    cfg = Config(journal=tmp_path / "j.sqlite", journal_key=tmp_path / "journal.key", epu=None)
    bridge = Bridge(cfg, "t" * 20, Redactor())
    bridge._scan()
    bridge._scan()  # a port already open is not opened twice
    assert opened == ["/dev/ttyUSB7"]
    assert devices.serial_readers()[0]["boards"] == ["esp32-cam-ai-thinker"]

    monkeypatch.setattr(service.ReaderPort, "stop", lambda self: None)
    ports[0].device = "/dev/ttyUSB8"  # unplugged, back under another name
    bridge._scan()
    assert opened == ["/dev/ttyUSB7", "/dev/ttyUSB8"] and set(bridge.ports) == {"/dev/ttyUSB7", "/dev/ttyUSB8"}
    bridge.ports["/dev/ttyUSB7"].state = "disconnected"
    bridge._scan()
    assert set(bridge.ports) == {"/dev/ttyUSB8"}
    bridge.journal.close()
