"""`electeur version`: versions of the package, the wire protocol and the decoders, for bug reports."""

from __future__ import annotations

import argparse
import ctypes.util
import platform
from importlib import metadata

from host_bridge import __version__


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("version", help="print versions (package, Python, decoders)",
                       description="Print the versions a bug report needs.")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    print(f"electeur {__version__}")
    print(f"python {platform.python_version()} ({platform.system()})")
    for name, dist in DECODERS:
        print(f"{name} {installed(dist)}")
    print(f"zbar library {'found' if ctypes.util.find_library('zbar') else 'not found (the zbar engine is unavailable)'}")
    return 0


DECODERS = (("zxing-cpp", "zxing-cpp"), ("pyzbar", "pyzbar"))


def installed(dist: str) -> str:
    """The installed version, read from package metadata: importing the decoders would cost more than the answer."""
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"
