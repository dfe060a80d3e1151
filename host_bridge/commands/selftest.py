"""`electeur selftest`: one PASS/FAIL line per subsystem of a reader, each FAIL with what to do."""

from __future__ import annotations

import argparse

from host_bridge.devtools.boards import load_board
from host_bridge.devtools.selftest import evaluate, probe_board
from host_bridge.errors import UserError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("selftest", help="check camera, decoder, output, USB/HID, heap and config of a reader",
                       description="Print one PASS/FAIL line each for the camera and its frame rate, the decoder and "
                                   "its speed, the output mode, USB/HID, free heap and the config. Exit 1 on any FAIL.")
    p.add_argument("--port", required=True, help="serial port of the reader")
    p.add_argument("--board", help="board profile: probe the hardware through the raw REPL (works before deploy)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.board:
        raise UserError("pass --board NAME: the self-test probes the board through its raw REPL")
    status = probe_board(args.port, args.board)
    checks = evaluate(status, load_board(args.board)["outputs"])
    for check in checks:
        print(check.line())
    failed = sum(not c.ok for c in checks)
    print(f"{len(checks) - failed}/{len(checks)} passed" + ("" if not failed else "; the board was reset"))
    return 1 if failed else 0
