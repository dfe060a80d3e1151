"""`electeur lookup --code CODE`: the code printed under an e-prescription's QR, typed by hand, to a lookup."""

from __future__ import annotations

import argparse
import json

from host_bridge.counter.pipeline import LookupPipeline
from host_bridge.epu.client import EpuClient, default_base_url
from host_bridge.payloads import Profiles


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("lookup", help="turn a hand-typed e-prescription code into a lookup",
                       description="Turn the alphanumeric code printed under an e-prescription's QR (spaces, dashes and "
                                   "case ignored; check character verified) into the same EpuLookup as a scan.")
    p.add_argument("--code", required=True, help="the code as printed, e.g. 'K7P3 9QXA 2M4T B8RC'")
    p.add_argument("--epu", nargs="?", const="", metavar="URL",
                   help="also consult ePU (default URL: $ELECTEUR_EPU_URL or the local sandbox)")
    p.add_argument("--profiles-dir", metavar="DIR", help="extra profiles directory (default: $ELECTEUR_PROFILES_DIR)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    epu = EpuClient(args.epu or default_base_url()) if args.epu is not None else None
    lookup = LookupPipeline(profiles=Profiles(args.profiles_dir), epu=epu, sessions=False).manual(args.code)
    print(json.dumps(lookup))
    return 0
