"""`electeur bench deploy`: time to compile and copy the firmware, raw-paste against the plain raw REPL.

The board is tools/rawrepl_board.py on a pty (a simulated board: real pty, pyserial and mpremote transport, CPython
standing in for the interpreter), so the figures are the host side's cost, not a UART's. The baseline is the plain
raw REPL (mpremote writes it 256 bytes per 10 ms); raw-paste is what real MicroPython >= 1.14 boards accept.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from tqdm import tqdm

from host_bridge.argtypes import positive_int
from host_bridge.devtools import deploy as deploymod
from host_bridge.devtools import mpy

NAME = "deploy"
HELP = "time compiling firmware/ and copying it to a simulated board (raw-paste vs plain raw REPL)"
SIMBOARD = Path(__file__).resolve().parents[3] / "tools" / "rawrepl_board.py"


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--repeat", type=positive_int, default=3, help="runs per variant (median reported)")
    parser.add_argument("--board", default="esp32-s3-eye", help="board profile to deploy")
    parser.add_argument("--firmware", type=Path, help="firmware directory to deploy (default: the firmware package)")


def _timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _deploy_once(board: str, raw_paste: bool) -> float:
    with tempfile.TemporaryDirectory(prefix="electeur-bench-") as tmp:
        root = Path(tmp) / "flash"
        root.mkdir()
        chip = ["--machine", "ESP32S3 module with ESP32S3"] if "s3" in board else []
        proc = subprocess.Popen([sys.executable, str(SIMBOARD), "--root", str(root), "--events",
                                 str(Path(tmp) / "events"), "--capacity", str(64 << 20), *chip,
                                 *([] if raw_paste else ["--no-raw-paste"])], stdout=subprocess.PIPE, text=True)
        try:
            port = proc.stdout.readline().strip()
            return _timed(lambda: deploymod.deploy(board, port, False, None, None, say=lambda _: None))
        finally:
            proc.kill()
            proc.wait()


def run(args: argparse.Namespace) -> int:
    if args.firmware:
        deploymod.FIRMWARE_DIR = args.firmware.resolve()
    with tempfile.TemporaryDirectory() as tmp:
        compiled = mpy.compile_tree(deploymod.FIRMWARE_DIR, Path(tmp), "firmware")
        size = sum(c.size for c in compiled)
        compile_s = [_timed(lambda: mpy.compile_tree(deploymod.FIRMWARE_DIR, Path(tmp), "again"))
                     for _ in range(args.repeat)]
        shutil.rmtree(Path(tmp) / "again", ignore_errors=True)
    times: dict[bool, list[float]] = {False: [], True: []}
    with tqdm(total=2 * args.repeat, desc="deploy", file=sys.stderr) as bar:
        for _ in range(args.repeat):
            for raw_paste in (False, True):
                times[raw_paste].append(_deploy_once(args.board, raw_paste))
                bar.update()
    plain, paste = statistics.median(times[False]), statistics.median(times[True])
    print(f"firmware: {len(compiled)} modules, {size} B of .mpy ({deploymod.FIRMWARE_DIR})")
    print(f"compile (mpy-cross): median {statistics.median(compile_s) * 1000:.0f} ms "
          f"({statistics.median(compile_s) * 1000 / len(compiled):.1f} ms per module)")
    print(f"deploy, plain raw REPL (baseline): median {plain:.2f} s, {size / plain / 1024:.1f} KB/s of .mpy")
    print(f"deploy, raw-paste: median {paste:.2f} s, {size / paste / 1024:.1f} KB/s of .mpy, "
          f"{plain / paste:.1f}x faster than the baseline")
    return 0
