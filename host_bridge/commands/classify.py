"""`electeur classify`: payloads in, one EpuLookup JSON line out per payload; hostile input never crashes it."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Iterator

from host_bridge.counter.pipeline import LookupPipeline
from host_bridge.payloads import Profiles, now_source


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("classify", help="classify payloads into EpuLookup JSON lines",
                       description="Classify 2D-code payloads (arguments, or one per line on stdin, read as bytes) "
                                   "and print one EpuLookup JSON line each (schema docs/schemas/epu-lookup.v1.json). "
                                   "Exits 0 whatever the payloads contain.")
    p.add_argument("payloads", nargs="*", metavar="PAYLOAD", help="payload texts (default: read stdin, one per line)")
    p.add_argument("--reader", default="cli", help="reader name in `source` (default: cli)")
    p.add_argument("--session", action="store_true", help="treat the payloads as one counter session (cross-checks)")
    p.add_argument("--gs-substitute", metavar="TEXT", help="visible text a keyboard-wedge reader typed for GS (0x1D)")
    p.add_argument("--profiles-dir", metavar="DIR", help="extra profiles directory (default: $ELECTEUR_PROFILES_DIR)")
    p.set_defaults(func=run)


def _inputs(args: argparse.Namespace) -> Iterator[bytes]:
    if args.payloads:
        for text in args.payloads:
            yield os.fsencode(text)  # surrogate-escaped bytes from the command line, back to what was typed
        return
    for line in sys.stdin.buffer:
        yield line[:-1].removesuffix(b"\r") if line.endswith(b"\n") else line


def run(args: argparse.Namespace) -> int:
    pipeline = LookupPipeline(profiles=Profiles(args.profiles_dir), sessions=args.session, gs_substitute=args.gs_substitute)
    out = sys.stdout
    for data in _inputs(args):
        lookup = pipeline.lookup(data, now_source(args.reader, engine="text"))
        out.write(json.dumps(lookup) + "\n")  # ASCII-only JSON: safe on any console encoding
        out.flush()
    return 0
