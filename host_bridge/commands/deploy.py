"""`electeur deploy`: compile the firmware for a board's MicroPython and copy it with its profile and config."""

from __future__ import annotations

import argparse
from pathlib import Path

from host_bridge.devtools.deploy import MIP_INDEX, deploy
from host_bridge.errors import UserError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("deploy", help="compile firmware/ to .mpy and copy it to a MicroPython board",
                       description="Compile firmware/ with mpy-cross for the board's MicroPython version, check "
                                   "the board (version, chip, free flash), copy the .mpy files, board profile and "
                                   "config over the raw REPL, and reset it.")
    p.add_argument("--board", required=True, help="board profile name (hardware/boards/NAME.json)")
    p.add_argument("--port", help="serial port of the board (/dev/ttyUSB0, /dev/ttyACM0, COM3); not needed with "
                                  "--dry-run")
    p.add_argument("--dry-run", action="store_true", help="compile and print every step without opening the port")
    p.add_argument("--output", help="output mode written to config.json (framed, line, hid, tcp)")
    p.add_argument("--config", type=Path, help="JSON config file to copy as config.json")
    p.add_argument("--lens-hfov", type=float, metavar="DEG",
                   help="horizontal field of view of a lens fitted instead of the stock one (docs/optics.md): "
                        "on-board reading at the stand's distance is judged with it")
    p.add_argument("--mip-index", default=MIP_INDEX, metavar="URL|DIR",
                   help=f"package index for the USB keyboard's micropython-lib packages (default {MIP_INDEX})")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.port is None and not args.dry_run:
        raise UserError("deploy needs --port PORT (electeur devices lists them), or --dry-run to see the steps")
    deploy(args.board, args.port, args.dry_run, args.output, args.config, mip_index=args.mip_index,
           lens_hfov=args.lens_hfov)
    return 0
