"""`electeur version`: versions of the package, the wire protocol and the decoders, for bug reports."""

from __future__ import annotations

import argparse
import ctypes.util
import os
import platform
import sys

from host_bridge import __version__


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
    """The installed version, from the name of its `<name>-<version>.dist-info` folder on sys.path: importing the
    decoders, or even importlib.metadata (email, zipfile, inspect...), costs more than the answer."""
    prefix = dist.replace("-", "_").lower() + "-"
    for folder in sys.path:
        try:
            names = os.listdir(folder or ".")
        except OSError:
            continue
        for name in names:
            if name.lower().startswith(prefix) and name.endswith(".dist-info"):
                return name[len(prefix):-len(".dist-info")]
    return "not installed"
