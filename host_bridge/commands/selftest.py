"""`electeur selftest`: one PASS/FAIL line per subsystem of a reader, each FAIL with what to do."""

from __future__ import annotations

import argparse

from host_bridge.devtools.boards import board_names, load_board
from host_bridge.devtools.reader_status import reader_status
from host_bridge.devtools.selftest import evaluate, probe_board


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("selftest", help="check camera, decoder, output, USB/HID, heap and config of a reader",
                       description="Print one PASS/FAIL line each for the camera and its frame rate, the decoder and "
                                   "its speed, the output mode, USB/HID, free heap and the config. Exit 1 on any FAIL.")
    p.add_argument("--port", required=True, help="serial port of the reader")
    p.add_argument("--board", help="board profile: probe the hardware through the raw REPL (works before deploy); "
                                   "without it, ask the running reader over the wire protocol (framed output)")
    p.add_argument("--listen", type=float, default=4.0, help="seconds to listen to a running reader (default 4)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.board:
        status = probe_board(args.port, args.board)
        outputs = load_board(args.board)["outputs"]
    else:
        status = reader_status(args.port, args.listen)
        outputs = load_board(status["board"])["outputs"] if status["board"] in board_names() else None
    if status.get("link_resets"):
        print(f"note: the reader's port went away {status['link_resets']} time(s) while listening (the board reset "
              "or was unplugged); listened again after it came back")
    checks = evaluate(status, outputs)
    for check in checks:
        print(check.line())
    failed = sum(not c.ok for c in checks)
    print(f"{len(checks) - failed}/{len(checks)} passed" + ("; the board was reset" if args.board else ""))
    return 1 if failed else 0
