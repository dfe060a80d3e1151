"""Finding readers: USB VID/PID from the board profiles, Wi-Fi readers by mDNS (python-zeroconf)."""

from __future__ import annotations

import socket

from zeroconf import ServiceInfo, Zeroconf

from host_bridge.bridge.devices import SERVICE, board_usb_ids, network_readers
from host_bridge.cli import main


def test_usb_ids_come_from_the_board_profiles():
    ids = board_usb_ids()
    assert ids[(0x1A86, 0x7523)] == ["esp32-cam-ai-thinker"]
    assert set(ids[(0x303A, 0x4001)]) == {"esp32-s3-eye", "xiao-esp32s3-sense"}
    assert (0x2E8A, 0x0005) in ids


def test_wifi_reader_announced_over_mdns_is_listed():
    zc = Zeroconf(interfaces=["127.0.0.1"])
    info = ServiceInfo(SERVICE, f"comptoir-test.{SERVICE}", addresses=[socket.inet_aton("127.0.0.1")], port=7007,
                       properties={"board": "esp32-s3-eye", "fw": "0.1.0"}, server="comptoir-test.local.")
    zc.register_service(info)
    try:
        found = network_readers(timeout_s=1.5)
    finally:
        zc.unregister_service(info)
        zc.close()
    mine = [d for d in found if d["name"].startswith("comptoir-test")]
    assert mine and mine[0]["port"] == "tcp://127.0.0.1:7007" and mine[0]["properties"]["board"] == "esp32-s3-eye"


def test_devices_command_says_what_to_do_when_nothing_is_found(capsys):
    assert main(["devices", "--timeout", "0"]) == 0
    assert "electeur sim --pty" in capsys.readouterr().out
