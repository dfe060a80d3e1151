"""`electeur sim`: the virtual reader — the real firmware with a simulated board, on CPython or MicroPython
(wasm or unix port).

Output goes to stdout, or with `--pty` to a pseudo-terminal that a host opens like a real device (its path is
the first line printed). The images are shown `--show-ms` each; after the last one the reader exits (stdout)
or stays connected and idle (`--pty`); `--loop` starts over.

`--pty-link PATH` keeps PATH a symlink to the current pty (the stable name a host opens, like
/dev/serial/by-id/...). SIGUSR1 unplugs the reader and plugs it back half a second later on a new pty
(its path printed as a new line, PATH re-pointed to it); the firmware keeps running and resends the
reads the host had not acknowledged.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
from pathlib import Path

from host_bridge.decode.files import iter_images
from host_bridge.errors import UserError
from host_bridge.testbench import virtual_reader as vr
from host_bridge.testbench.pty_relay import PtyRelay, check_link


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sim", help="run the virtual reader (real firmware, simulated camera) on image files",
                       description=__doc__)
    p.add_argument("--images", required=True, metavar="DIR", help="directory of PNG/JPEG/WebP/PGM images (recursive)")
    p.add_argument("--mode", choices=vr.MODES, default="framed", help="output mode (default framed)")
    p.add_argument("--runtime", choices=vr.RUNTIMES, default="cpython", help="run the firmware on CPython, MicroPython 1.27 (wasm port) or MicroPython 1.29 (unix port)")
    p.add_argument("--pty", action="store_true", help="write to a pseudo-terminal; its path is the first line of stdout")
    p.add_argument("--pty-link", type=Path, metavar="PATH",
                   help="with --pty: keep PATH a symlink to the current pty; SIGUSR1 unplugs and replugs the reader")
    p.add_argument("--loop", action="store_true", help="start over after the last image")
    p.add_argument("--show-ms", type=int, default=1000, metavar="N", help="time each image is in view (default 1000)")
    p.add_argument("--decode", choices=("auto", "board", "host"), default="auto",
                   help="auto: on-board decoder if the build has one; host: stream frames (framed mode)")
    p.add_argument("--frame-format", choices=vr.FRAME_FORMATS, default="gray8",
                   help="streamed frames: 8-bit gray (default) or JPEG bytes, as ESP32/ArduCAM cameras send them "
                        "(needs --mode framed --decode host)")
    p.add_argument("--flash", type=Path, metavar="DIR",
                   help="directory playing the reader's flash (CPython and unix-port runtimes): config.json, and the reads not yet "
                        "acknowledged (outbox.bin), resent when the reader is restarted on the same DIR")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not Path(args.images).is_dir():
        raise UserError(f"{args.images}: not a directory")
    if args.pty_link is not None and not args.pty:
        raise UserError("--pty-link needs --pty")
    if args.pty_link is not None:
        check_link(args.pty_link)
    if args.show_ms < 0:
        raise UserError("--show-ms must be >= 0")
    if args.decode == "host" and args.mode != "framed":
        raise UserError(f"--decode host streams frames for the host to decode, which only --mode framed carries; "
                        f"--mode {args.mode} sends codes the reader decodes itself: use --decode auto")
    if args.frame_format == "jpeg" and (args.mode != "framed" or args.decode != "host"):
        raise UserError("--frame-format jpeg streams frames to the host: it needs --mode framed --decode host")
    if args.flash is not None and not args.flash.is_dir():
        raise UserError(f"--flash {args.flash}: not a directory")
    images = list(iter_images([args.images]))
    if not images:
        raise UserError(f"{args.images}: no images")
    with vr.frames_dir() as tmp:
        failed = vr.write_frames(images, Path(tmp), args.frame_format)
        for image, why in failed.items():
            print(f"sim: {image}: {why} (skipped)", file=sys.stderr)
        cmd = vr.command(args.runtime, Path(tmp), args.mode, args.show_ms, args.loop, idle=args.pty, decode=args.decode,
                         frame_format=args.frame_format, flash=args.flash.resolve() if args.flash else None)
        if not args.pty:
            return subprocess.run(cmd).returncode
        return run_on_pty(cmd, args.pty_link)


def stop(*_: object) -> None:
    """SIGTERM: unwind like Ctrl-C, so the link is removed and the firmware stopped."""
    raise KeyboardInterrupt


def run_on_pty(cmd: list[str], link: Path | None) -> int:
    """The firmware behind a pluggable pty: each pty path on its own stdout line, SIGUSR1 replugs."""
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    relay = PtyRelay(proc, link, on_plug=lambda path: print(path, flush=True))
    previous = signal.signal(signal.SIGUSR1, lambda *_: relay.replug.set()) if hasattr(signal, "SIGUSR1") else None
    signal.signal(signal.SIGTERM, stop)
    try:
        relay.plug()
        relay.run()
        return proc.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        if previous is not None:
            signal.signal(signal.SIGUSR1, previous)
        proc.stdin.close()              # type: ignore[union-attr]  # the idle firmware exits on end of input
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
