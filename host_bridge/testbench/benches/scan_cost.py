"""`electeur bench scan-cost`: what a changed frame costs the reader's scan loop, empty or holding a code.

The real scan loop (firmware/scan.py, change detector off: every frame is new, as a hand moving in view) with
the firmware's own QR decoder, under real MicroPython (wasm) and CPython, the presence test (config
`presence_edges`) on and off. Host-independent figures too: the pixels the presence test reads and the
ratio of an empty frame's cost to a code frame's, measured in the same run.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from firmware import config
from firmware.presence import ROWS, STEP
from host_bridge.argtypes import positive_int
from host_bridge.errors import UserError
from host_bridge.testbench.synthetic_frames import empty_scene, printed_code
from host_bridge.testbench.virtual_reader import BOARD_HEAP, FIRMWARE, REPO, RUNNER

NAME = "scan-cost"
HELP = "the scan loop's cost per changed frame: empty (presence test on/off) vs a code frame, MicroPython and CPython"
SCRIPT = REPO / "tools" / "micropython" / "scan_cost.py"
SIZE = (320, 240)


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("--frames", type=positive_int, default=5, help="empty frames and code frames each (default 5)")
    p.add_argument("--runtime", choices=("cpython", "micropython", "both"), default="both")


def _write(frames: dict[str, np.ndarray], d: Path) -> None:
    for name, gray in frames.items():
        h, w = gray.shape
        (d / name).write_bytes(b"P5\n%d %d\n255\n" % (w, h) + gray.tobytes())


def measure(runtime: str, d: Path, names: list[str], edges: int) -> dict[str, list[tuple[int, int, int, int]]]:
    """Per frame kind ("empty"/"code"): (ms, decoded, reads, µs of the presence test alone) of each frame."""
    if runtime == "micropython":
        cmd = ["node", str(RUNNER), "--heap", BOARD_HEAP, "--mount", f"{FIRMWARE}:/lib/firmware",
               "--mount", f"{d}:/frames", str(SCRIPT), str(edges), "/frames", *names]
    else:
        cmd = [sys.executable, str(SCRIPT), str(edges), str(d), *names]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=900, cwd=REPO, check=False)
    if proc.returncode != 0:
        raise UserError(f"scan-cost on {runtime} failed: {proc.stderr[-1500:]}")
    out: dict[str, list[tuple[int, int, int, int]]] = {"empty": [], "code": []}
    for line in proc.stdout.splitlines():
        if line.startswith("frame "):
            _, name, _, ms, decoded, reads, gate_us = line.split()
            out[name.split("-")[0]].append((int(ms), int(decoded), int(reads), int(gate_us)))
    return out


def run(args: argparse.Namespace) -> int:
    frames = {f"empty-{i}.pgm": empty_scene(SIZE, seed=i) for i in range(args.frames)}
    frames |= {f"code-{i}.pgm": printed_code(SIZE, seed=i) for i in range(args.frames)}
    names = [n for pair in zip(sorted(n for n in frames if n.startswith("empty")),
                               sorted(n for n in frames if n.startswith("code"))) for n in pair]
    w, h = SIZE
    print(f"QVGA frames, {args.frames} empty and {args.frames} with a printed QR code, each new to the change detector")
    print(f"presence test: {ROWS} rows x {w // STEP} samples = {ROWS * (w // STEP)} pixels read "
          f"({ROWS * (w // STEP) * 100 / (w * h):.1f} % of the frame); the decoder reads all {w * h} at least")
    runtimes = ("micropython", "cpython") if args.runtime == "both" else (args.runtime,)
    with tempfile.TemporaryDirectory(prefix="electeur-scan-cost-") as tmp:
        _write(frames, Path(tmp))
        for runtime in runtimes:
            on = measure(runtime, Path(tmp), names, config.defaults()["presence_edges"])
            off = measure(runtime, Path(tmp), names, 0)
            code_ms = statistics.median(row[0] for row in on["code"])
            for label, rows in (("empty, presence test on", on["empty"]), ("empty, presence test off", off["empty"]),
                                ("code", on["code"])):
                ms = statistics.median(row[0] for row in rows)
                print(f"{runtime:<12} {label:<26} {ms:8.1f} ms/frame median ({ms / code_ms:6.3f} x a code frame), "
                      f"decoded {sum(row[1] for row in rows)}/{len(rows)}, reads {sum(row[2] for row in rows)}")
            gate_ms = statistics.median(row[3] for row in on["empty"] + on["code"]) / 1000
            print(f"{runtime:<12} {'presence test alone':<26} {gate_ms:8.1f} ms/frame median "
                  f"({gate_ms / code_ms:6.3f} x a code frame)")
    return 0
