"""`electeur version`: versions of the package, the wire protocol and the decoders, for bug reports."""

from __future__ import annotations

import argparse
import platform

from host_bridge import __version__


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("version", help="print versions (package, Python, decoders)",
                       description="Print the versions a bug report needs.")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    print(f"electeur {__version__}")
    print(f"python {platform.python_version()} ({platform.system()})")
    return 0
