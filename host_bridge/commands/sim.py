"""`electeur sim`: the virtual reader — the real firmware with a simulated board, on CPython or MicroPython.

Output goes to stdout, or with `--pty` to a pseudo-terminal that a host opens like a real device (its path is
the first line printed). The images are shown `--show-ms` each; after the last one the reader exits (stdout)
or stays connected and idle (`--pty`); `--loop` starts over.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from host_bridge.decode.files import iter_images
from host_bridge.errors import UserError
from host_bridge.link import virtual_reader as vr


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sim", help="run the virtual reader (real firmware, simulated camera) on image files",
                       description=__doc__)
    p.add_argument("--images", required=True, metavar="DIR", help="directory of PNG/JPEG/WebP/PGM images (recursive)")
    p.add_argument("--mode", choices=vr.MODES, default="framed", help="output mode (default framed)")
    p.add_argument("--runtime", choices=vr.RUNTIMES, default="cpython", help="run the firmware on CPython or MicroPython 1.27")
    p.add_argument("--pty", action="store_true", help="write to a pseudo-terminal; its path is the first line of stdout")
    p.add_argument("--loop", action="store_true", help="start over after the last image")
    p.add_argument("--show-ms", type=int, default=1000, metavar="N", help="time each image is in view (default 1000)")
    p.add_argument("--decode", choices=("auto", "board", "host"), default="auto",
                   help="auto: on-board decoder if the build has one; host: stream frames (framed mode)")
    p.set_defaults(func=run)


def open_pty() -> tuple[int, str]:
    """A raw pseudo-terminal: (master fd for the firmware, device path for the host)."""
    try:
        import pty
        import tty
    except ImportError:
        raise UserError("--pty needs a POSIX system (use stdout, or a virtual COM port pair on Windows)") from None
    master, slave = pty.openpty()
    tty.setraw(slave)
    tty.setraw(master)
    return master, os.ttyname(slave)


def run(args: argparse.Namespace) -> int:
    if not Path(args.images).is_dir():
        raise UserError(f"{args.images}: not a directory")
    if args.show_ms < 0:
        raise UserError("--show-ms must be >= 0")
    images = list(iter_images([args.images]))
    if not images:
        raise UserError(f"{args.images}: no images")
    with vr.frames_dir() as tmp:
        failed = vr.write_frames(images, Path(tmp))
        for image, why in failed.items():
            print(f"sim: {image}: {why} (skipped)", file=sys.stderr)
        cmd = vr.command(args.runtime, Path(tmp), args.mode, args.show_ms, args.loop, idle=args.pty, decode=args.decode)
        if not args.pty:
            return subprocess.run(cmd).returncode
        master, path = open_pty()
        print(path, flush=True)
        try:
            return subprocess.run(cmd, stdin=master, stdout=master).returncode
        except KeyboardInterrupt:
            return 0
        finally:
            os.close(master)
