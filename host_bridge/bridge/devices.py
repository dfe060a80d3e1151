"""Finding readers: USB serial ports whose VID/PID is one of our boards', and Wi-Fi readers
announcing `_electeur._tcp` over mDNS."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from typing import Any

from serial.tools import list_ports

from host_bridge.package_data import boards_dir

SERVICE = "_electeur._tcp.local."
BOARDS = boards_dir()


def board_usb_ids(boards_dir: Path = BOARDS) -> dict[tuple[int, int], list[str]]:
    """(vid, pid) -> board names, from the `usb` field of hardware/boards/*.json."""
    ids: dict[tuple[int, int], list[str]] = {}
    for path in sorted(boards_dir.glob("*.json")):
        usb = json.loads(path.read_text(encoding="utf-8")).get("usb") or {}
        if usb.get("vid") and usb.get("pid"):
            ids.setdefault((int(usb["vid"], 16), int(usb["pid"], 16)), []).append(path.stem)
    return ids


def serial_readers(boards_dir: Path = BOARDS) -> list[dict[str, Any]]:
    """Serial ports that belong to a known reader board (a CH340 may also be something else: listed as 'maybe')."""
    ids = board_usb_ids(boards_dir)
    found = []
    for port in list_ports.comports():
        boards = ids.get((port.vid, port.pid)) if port.vid is not None else None
        if boards:
            found.append({"transport": "serial", "port": port.device, "boards": boards,
                          "usb": f"{port.vid:04x}:{port.pid:04x}", "description": port.description,
                          "serial_number": port.serial_number})
    return found


def network_readers(timeout_s: float = 1.5) -> list[dict[str, Any]]:
    """Readers announcing `_electeur._tcp` on the local network, found within `timeout_s`."""
    from zeroconf import ServiceBrowser, ServiceListener, Zeroconf

    names: list[str] = []

    class Listener(ServiceListener):
        def add_service(self, zc: Zeroconf, type_: str, name: str) -> None:
            names.append(name)

        def update_service(self, zc: Zeroconf, type_: str, name: str) -> None:
            pass

        def remove_service(self, zc: Zeroconf, type_: str, name: str) -> None:
            pass

    zc = Zeroconf()
    try:
        ServiceBrowser(zc, SERVICE, Listener())
        time.sleep(timeout_s)
        found = []
        for name in names:
            info = zc.get_service_info(SERVICE, name, timeout=500)
            if info and info.addresses and info.port:
                host = socket.inet_ntoa(info.addresses[0]) if len(info.addresses[0]) == 4 else info.server
                found.append({"transport": "tcp", "port": f"tcp://{host}:{info.port}", "name": name,
                              "properties": {k.decode(): (v or b"").decode("utf-8", "replace")
                                             for k, v in info.properties.items()}})
        return found
    finally:
        zc.close()
