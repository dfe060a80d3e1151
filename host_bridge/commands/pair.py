"""`electeur pair`: give a reader its secret key over USB, so the bridge accepts it on Wi-Fi (tcp://) and
nobody else can read from it, ACK its reads away, configure it, or pose as it."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import serial

from host_bridge.bridge import config as conf
from host_bridge.bridge.pairing import PairingStore, pair_over_usb
from host_bridge.devtools.device import check_port_exists
from host_bridge.errors import UserError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("pair", help="pair a reader with this bridge over USB (its Wi-Fi link's key)",
                       description="Plug the reader in by USB (framed mode) and run `electeur pair PORT`: a new "
                                   "secret key is saved on the reader and in the bridge's pairing store. On Wi-Fi "
                                   "(tcp://) the bridge and the reader then accept only each other.")
    p.add_argument("port", nargs="?", help="the reader's USB serial port (/dev/ttyACM0, COM3)")
    p.add_argument("--output", choices=("tcp", "framed"), default="tcp",
                   help="output mode the reader uses from its next start (default tcp: Wi-Fi)")
    p.add_argument("--config", type=Path, metavar="FILE", help="bridge TOML config (its `pairings` path)")
    p.add_argument("--list", action="store_true", help="list the paired readers (fingerprints, never keys)")
    p.add_argument("--forget", type=int, metavar="READER_ID", help="remove a reader's key: the bridge refuses it")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    store = PairingStore(conf.load(args.config).pairings)
    if args.list:
        for rid, info in sorted(store.readers().items()):
            print(json.dumps({"reader": rid} | info, ensure_ascii=False))
        return 0
    if args.forget is not None:
        if not store.remove(args.forget):
            raise UserError(f"reader {args.forget} is not paired ({store.path})")
        print(f"reader {args.forget} forgotten: the bridge refuses it until it is paired again")
        return 0
    if not args.port:
        raise UserError("give the reader's USB serial port (electeur devices lists them), or --list / --forget")
    check_port_exists(args.port)
    try:
        stream = serial.serial_for_url(args.port, baudrate=115200, timeout=0.2)
    except (serial.SerialException, OSError, ValueError):
        raise UserError(f"cannot open {args.port}: is another program (the bridge) using it, or is it not yours "
                        "(dialout group)?") from None
    try:
        info = pair_over_usb(stream, store, args.output)
    finally:
        stream.close()
    name = f" \"{info['name']}\"" if info.get("name") else ""
    print(f"reader {info['reader']}{name} ({info.get('board', '?')}) paired: key {info['fingerprint']}, "
          f"stored in {store.path}")
    print("next: unplug it, power it on Wi-Fi; the bridge (device tcp://ADDRESS:PORT, see `electeur devices`) "
          "accepts it at its next connection, no restart needed" if args.output == "tcp" else
          "the key is used once the reader runs with output tcp")
    return 0
