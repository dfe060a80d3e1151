"""`electeur lookup --code CODE`: the code printed under an e-prescription's QR, typed by hand, to a lookup."""

from __future__ import annotations

import argparse
import json

from host_bridge.epu.client import EpuClient, default_base_url
from host_bridge.payloads import Profiles, now_source
from host_bridge.payloads.manual import manual_lookup


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
    lookup = manual_lookup(args.code, source=now_source("manual", engine="manual"), profiles=Profiles(args.profiles_dir))
    if args.epu is not None:
        EpuClient(args.epu or default_base_url()).attach(lookup)
    print(json.dumps(lookup))
    return 0
