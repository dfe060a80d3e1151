"""`electeur open`: open the counter page, logged in, from the counter PC (a one-time link from the running bridge)."""

from __future__ import annotations

import argparse
import json
import ssl
import sys
import urllib.error
import urllib.request
import webbrowser
from pathlib import Path

from host_bridge.bridge import config as conf
from host_bridge.bridge.config import parse_hostport
from host_bridge.errors import UserError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("open", help="open the counter page in the browser, logged in (one-time link)",
                       description="Ask the running bridge for a one-time link to the counter page and open it in "
                                   "the default browser. The browser then keeps the API token (an HttpOnly cookie) "
                                   "across restarts. Needs the token: the token file, the config, or --token.")
    p.add_argument("--api", metavar="HOST:PORT", help="where the bridge listens (default: config, else 127.0.0.1:8765)")
    p.add_argument("--config", type=Path, metavar="FILE", help="the bridge's TOML config file")
    p.add_argument("--token", help="API bearer token (default: config, else the token file)")
    p.add_argument("--print", dest="print_only", action="store_true", help="print the link, do not start a browser")
    p.set_defaults(func=run)


def saved_token(cfg: conf.Config) -> str:
    """The token `electeur run` uses, without ever creating one (that is the bridge's job)."""
    if cfg.token:
        return cfg.token
    path = conf.config_dir() / "token"
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise UserError(f"no token file {path}: start the bridge first (electeur run), as the same user") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read the token file {path}: {exc}") from None


def run(args: argparse.Namespace) -> int:
    cfg = conf.load(args.config)
    if args.api:
        cfg.api_host, cfg.api_port = parse_hostport(args.api, "--api")
    token = args.token or saved_token(cfg)
    tls = None
    if cfg.api_cert:    # the bridge's own certificate, pinned: this computer talks to its own bridge
        try:
            tls = ssl.create_default_context(cafile=str(cfg.api_cert))
        except (OSError, ValueError) as exc:
            raise UserError(f"cannot load api_cert {cfg.api_cert}: {exc}") from None
        tls.check_hostname = False
        tls.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN   # trust this certificate itself, CA-issued or not
    base = f"{'https' if tls else 'http'}://{cfg.api_host}:{cfg.api_port}"
    req = urllib.request.Request(base + "/api/open-codes", data=b"", method="POST",
                                 headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(req, timeout=5, context=tls) as r:
            url = json.loads(r.read())["url"]
    except urllib.error.HTTPError as exc:
        if exc.code == 401:
            raise UserError(f"the bridge on {base} refused the token ({conf.token_where(cfg, given=bool(args.token))}"
                            "): is it the same user's bridge?") from None
        raise UserError(f"the bridge on {base} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError, ValueError, KeyError) as exc:
        reason = getattr(exc, "reason", exc)
        said = getattr(reason, "strerror", None) or str(reason)
        raise UserError(f"no bridge answering on {base} ({said.lower()}): start it with electeur run") from None
    print(url)
    sys.stdout.flush()
    if not args.print_only and not webbrowser.open(url):
        print("electeur open: no browser found: open the link above (good once, for 10 minutes)", file=sys.stderr)
    return 0
