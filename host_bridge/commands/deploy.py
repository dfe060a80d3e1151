"""`electeur deploy`: compile the firmware for a board's MicroPython and copy it with its profile and config."""

from __future__ import annotations

import argparse
from pathlib import Path

from host_bridge.devtools.deploy import MIP_INDEX, deploy


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("deploy", help="compile firmware/ to .mpy and copy it to a MicroPython board",
                       description="Compile firmware/ with mpy-cross for the board's MicroPython version, check "
                                   "the board (version, chip, free flash), copy the .mpy files, board profile and "
                                   "config over the raw REPL, and reset it.")
    p.add_argument("--board", required=True, help="board profile name (hardware/boards/NAME.json)")
    p.add_argument("--port", required=True, help="serial port of the board (/dev/ttyUSB0, /dev/ttyACM0, COM3)")
    p.add_argument("--dry-run", action="store_true", help="compile and print every step without opening the port")
    p.add_argument("--output", help="output mode written to config.json (framed, line, hid, tcp)")
    p.add_argument("--config", type=Path, help="JSON config file to copy as config.json")
    p.add_argument("--mip-index", default=MIP_INDEX, metavar="URL|DIR",
                   help=f"package index for the USB keyboard's micropython-lib packages (default {MIP_INDEX})")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    deploy(args.board, args.port, args.dry_run, args.output, args.config, mip_index=args.mip_index)
    return 0
