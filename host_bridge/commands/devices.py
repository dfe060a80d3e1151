"""`electeur devices`: the readers this machine can see (USB serial by VID/PID, Wi-Fi by mDNS)."""

from __future__ import annotations

import argparse
import json

from host_bridge.bridge.devices import network_readers, serial_readers


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("devices", help="list connected readers (USB serial and Wi-Fi)",
                       description="List reader boards on USB serial ports (matched by the VID/PID of "
                                   "hardware/boards/*.json) and Wi-Fi readers announcing _electeur._tcp.")
    p.add_argument("--timeout", type=float, default=1.5, help="seconds to listen for Wi-Fi readers (default 1.5; 0 skips)")
    p.add_argument("--json", action="store_true", help="a JSON array of devices ([] when none is found)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    found = serial_readers() + (network_readers(args.timeout) if args.timeout > 0 else [])
    if args.json:
        print(json.dumps(found, ensure_ascii=False, indent=1))
        return 0
    for dev in found:
        what = ", ".join(dev.get("boards", [])) or dev.get("name", "")
        print(f"{dev['transport']:6} {dev['port']:28} {what}")
    if not found:
        print("no reader found (plug one in, or use 'electeur sim --pty' for a virtual one)")
    return 0
