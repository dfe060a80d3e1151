"""`electeur epu-sandbox`: the local stand-in for the ePU tele-service (HTTP on loopback, SQLite)."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sqlite3
import time

from host_bridge.epu.client import SANDBOX_PORT, SANDBOX_TOKEN
from host_bridge.errors import UserError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("epu-sandbox", help="run the ePU sandbox (HTTP on 127.0.0.1, SQLite)",
                       description="Run the ePU sandbox: consult prescriptions, record dispensations (total, partial, "
                                   "refused); refuses a second total dispensation. API in docs/epu.md.")
    p.add_argument("--db", default="epu-sandbox.sqlite", help="SQLite file (default: ./epu-sandbox.sqlite)")
    p.add_argument("--port", type=int, default=SANDBOX_PORT, help=f"port on 127.0.0.1 (default {SANDBOX_PORT}; 0 = any)")
    p.add_argument("--token", default=os.environ.get("ELECTEUR_EPU_TOKEN", SANDBOX_TOKEN),
                   help="bearer token clients must send (default: $ELECTEUR_EPU_TOKEN or 'sandbox')")
    p.add_argument("--delay-s", type=float, default=0, metavar="S",
                   help="fault injection: wait S seconds before answering (beyond the client's timeout: ePU slow)")
    p.add_argument("--fail-status", type=int, metavar="CODE",
                   help="fault injection: answer every prescription request with this HTTP status (e.g. 500)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from host_bridge.testbench.epu_sandbox import SandboxServer
    from host_bridge.testbench.epu_store import next_batch

    try:
        if args.fail_status is not None and not 400 <= args.fail_status <= 599:
            raise UserError(f"--fail-status must be an HTTP error status 400-599, not {args.fail_status}")
        server = SandboxServer(args.db, port=args.port, token=args.token, delay_s=max(0.0, args.delay_s),
                               fail_status=args.fail_status).start()
    except OSError as exc:
        raise UserError(f"cannot listen on 127.0.0.1:{args.port} or open {args.db} ({exc})") from None
    except sqlite3.DatabaseError as exc:
        raise UserError(f"--db {args.db}: not an ePU sandbox database ({exc})") from None
    print(f"ePU sandbox listening on {server.url} (db {args.db}); dispensations « À transmettre » are sent "
          "daily at 12:30 (Paris); Ctrl-C to stop", flush=True)
    try:
        while True:  # the daily transmission batch, as the LGO runs it
            batch = next_batch(dt.datetime.now(dt.timezone.utc))
            time.sleep(max(1.0, (batch - dt.datetime.now(dt.timezone.utc)).total_seconds()))
            print(f"daily transmission: {server.store.transmit_pending()} dispensation(s) sent", flush=True)
    finally:
        server.stop()
