"""`electeur bench printed-code`: reading the number printed under a destroyed QR, on generated damaged samples.

Prints the share of damaged prescriptions whose number was read through the printed code, the wrong
numbers (must be 0), and what a missed frame costs: the cascade's own miss (the baseline, same frames,
same run) and the OCR added on top of it, as medians and their ratio; then the OCR runs on empty scenes and
on frames whose QR reads (must be 0: the cost lands only on misses).
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time

import numpy as np
from PIL import Image
from tqdm import tqdm

from host_bridge.argtypes import positive_int
from host_bridge.decode.engines import get_engine
from host_bridge.decode.printed_code import PrintedCodeEngine, TextReader
from host_bridge.testbench.samples.generate import sample
from host_bridge.testbench.synthetic_frames import empty_scene, printed_code

NAME = "printed-code"
HELP = "OCR of the printed prescription number on destroyed QRs: share read, wrong numbers, added ms per miss"


class Counting(TextReader):
    """The real OCR, counting its runs (the bench's proof that only missed frames pay; the tests' too)."""

    def __init__(self) -> None:
        super().__init__()
        self.runs = 0

    def lines(self, gray: np.ndarray) -> list[list[str]]:
        self.runs += 1
        return super().lines(gray)


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--count", type=positive_int, default=200, help="damaged samples (default 200)")
    parser.add_argument("--seed", type=int, default=1, help="samples seed (default 1)")


def run(args: argparse.Namespace) -> int:
    cascade = get_engine()
    reader = Counting()
    engine = PrintedCodeEngine(cascade, reader)
    tally = {"legible": 0, "read": 0, "qr_read": 0, "illegible": 0, "wrong": 0, "unreadable_right": 0}
    miss_ms, ocr_ms = [], []
    for i in tqdm(range(args.count), desc="bench printed-code", file=sys.stderr, disable=None):
        entry, data, _ = sample(args.seed, i, damaged=True)
        gray = np.asarray(Image.open(io.BytesIO(data)).convert("L"))
        started = time.perf_counter()
        qr = cascade.decode(gray)
        miss_ms.append((time.perf_counter() - started) * 1000.0)
        if qr:
            tally["qr_read"] += 1
            continue
        symbols, printed = engine.read(gray)
        if printed is not None:
            ocr_ms.append(printed.ms)
        truth = entry["printed_code"].replace(" ", "")
        got = {s.data.decode() for s in symbols}
        legible = entry["printed_code_legible"]
        tally["legible"] += legible
        tally["wrong"] += bool(got - {truth})
        if truth in got:
            tally["read"] += 1
        elif legible:
            tally["illegible"] += 1
        else:
            tally["unreadable_right"] += not got
    runs_on_misses = reader.runs
    for seed in range(10):
        engine.decode(empty_scene((640, 480), seed=seed))
        engine.decode(printed_code((640, 480), seed=seed))
    misses = args.count - tally["qr_read"]
    print(f"damaged prescriptions: {args.count} (QR destroyed; printed number legible in {tally['legible']}); "
          f"QR still read by the cascade: {tally['qr_read']}")
    print(f"read through the printed code: {tally['read']}/{tally['legible']} legible "
          f"({100 * tally['read'] / max(1, tally['legible']):.1f} %); 'code illisible' on the others; "
          f"wrong prescription numbers: {tally['wrong']}")
    print(f"printed code unreadable too: {tally['unreadable_right']}/{misses - tally['legible']} gave no number (right)")
    if ocr_ms:
        base, added = statistics.median(miss_ms), statistics.median(ocr_ms)
        print(f"per missed frame: cascade miss {base:.1f} ms (baseline, same run); OCR added {added:.0f} ms "
              f"(median of {len(ocr_ms)}; x{added / max(base, 1e-3):.0f} the miss)")
    print(f"OCR runs: {runs_on_misses} on {misses} missed frames; {reader.runs - runs_on_misses} on 10 empty scenes "
          f"and 10 frames whose QR reads")
    return 0 if tally["wrong"] == 0 and reader.runs == runs_on_misses else 1
