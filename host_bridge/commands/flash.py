"""`electeur flash`: put MicroPython on a board (esptool for ESP32, UF2 copy for the Pico)."""

from __future__ import annotations

import argparse
from pathlib import Path

from host_bridge.devtools.flash import flash


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("flash", help="write a MicroPython image to a board (esptool or UF2 copy)",
                       description="Write a MicroPython image: esptool write-flash for ESP32 boards, a copy onto "
                                   "the RPI-RP2/RP2350 volume for a Pico in BOOTSEL mode.")
    p.add_argument("--board", required=True, help="board profile name (hardware/boards/NAME.json)")
    p.add_argument("--port", help="serial port (ESP32 boards)")
    p.add_argument("--firmware", type=Path, help="MicroPython image (.bin for ESP32, .uf2 for Pico)")
    p.add_argument("--volume", type=Path, help="mounted RPI-RP2 volume (found automatically if omitted)")
    p.add_argument("--baud", type=int, default=460800, help="esptool baud rate (default 460800)")
    p.add_argument("--erase", action="store_true", help="erase the whole flash first (ESP32; first install)")
    p.add_argument("--dry-run", action="store_true", help="print the esptool command or the copy, do nothing")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    flash(args.board, args.port, args.firmware, volume=args.volume, baud=args.baud, erase=args.erase,
          dry_run=args.dry_run)
    return 0
