"""`electeur run`: the host bridge service (readers → journal → sinks, local API and counter page)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from pathlib import Path

from host_bridge.bridge import config as conf
from host_bridge.bridge.config import parse_hostport
from host_bridge.bridge.redact import Redactor, install
from host_bridge.bridge.service import Bridge


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run the host bridge service",
                       description="Run the host bridge: read from readers, journal every read, deliver lookups "
                                   "to the configured sinks, serve the local API and counter page.")
    p.add_argument("--device", action="append", metavar="auto|PORT|tcp://HOST:PORT",
                   help="reader to open (repeatable; default from the config, else 'auto': USB boards by VID/PID)")
    p.add_argument("--api", metavar="HOST:PORT", help="where the API and page listen (default 127.0.0.1:8765)")
    p.add_argument("--token", help="API bearer token (default: config, else generated once and saved)")
    p.add_argument("--journal", type=Path, metavar="PATH", help="SQLite journal (default: user data directory)")
    p.add_argument("--config", type=Path, metavar="FILE", help="TOML config file (see docs/bridge.md)")
    p.add_argument("--stdout", action="store_true", help="also print each lookup as a JSON line on stdout")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    cfg = conf.load(args.config)
    if args.device:
        cfg.devices = [conf.check_device(d, "--device") for d in args.device]
    if args.api:
        cfg.api_host, cfg.api_port = parse_hostport(args.api, "--api")
    if args.token:
        cfg.token = args.token
    if args.journal:
        cfg.journal = args.journal
    cfg.stdout = cfg.stdout or args.stdout
    token, new_token = conf.ensure_token(cfg)
    where = conf.token_where(cfg, given=bool(args.token))

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("electeur")
    root.setLevel(logging.INFO)
    root.addHandler(handler)
    redactor = Redactor()
    install(root, redactor, allow_identifiers=cfg.log_identifiers)

    bridge = Bridge(cfg, token, redactor, token_where=where)
    page = f"{'https' if bridge.api_tls else 'http'}://{cfg.api_host}:{cfg.api_port}/"
    err = sys.stderr
    print(f"electeur run: config  {cfg.path or '(none: defaults)'}", file=err)
    print(f"electeur run: journal {cfg.journal} " + ("(identifiers in clear: log_identifiers = true)"
          if cfg.log_identifiers else f"(sealed, key {cfg.journal_key})"), file=err)
    print(f"electeur run: API     {page}api/ (bearer token required)", file=err)
    print(f"electeur run: page    {page} (token: {where})", file=err)
    if under_service_manager():   # a log others may read: no link that opens the page, say how to get one
        print("electeur run: open    run 'electeur open' on this computer (a one-time link to the page)", file=err)
    else:
        print(f"electeur run: open    {bridge.api.one_time_link(page)}  (one-time link, 10 min; later: electeur open)",
              file=err)
    print(f"electeur run: devices {', '.join(cfg.devices)}", file=err)
    print(f"electeur run: ePU     {bridge.epu.base_url if bridge.epu else 'off'}", file=err)
    if new_token and under_service_manager():    # its log keeps stderr for anyone who may read logs
        print(f"electeur run: new API token saved in {conf.config_dir() / 'token'} (mode 0600, not shown here: "
              "electeur open opens the page with it)", file=err)
    elif new_token:
        print(f"electeur run: new API token (saved in {conf.config_dir() / 'token'}, shown once): {token}", file=err)
    err.flush()
    try:
        asyncio.run(_serve_until_sigterm(bridge))
    except KeyboardInterrupt:
        pass
    return 0


def under_service_manager() -> bool:
    """systemd (INVOCATION_ID, JOURNAL_STREAM) or any manager that gives no terminal (NSSM, launchd, a log file)."""
    return bool(os.environ.get("INVOCATION_ID") or os.environ.get("JOURNAL_STREAM")) or not sys.stderr.isatty()


async def _serve_until_sigterm(bridge: Bridge) -> None:
    """systemd and service managers stop with SIGTERM: cancel the service from inside the event loop, so the
    shutdown (sinks stopped, journal closed) always runs. Raising from a Python signal handler instead can land
    in a weakref callback or a __del__, where it is ignored: the bridge then never stopped (seen under load)."""
    task = asyncio.current_task()
    try:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)  # type: ignore[union-attr]
    except NotImplementedError:            # Windows: no loop signal handlers; the service manager kills it
        signal.signal(signal.SIGTERM, _stop)
    with contextlib.suppress(asyncio.CancelledError):
        await bridge.serve()


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
