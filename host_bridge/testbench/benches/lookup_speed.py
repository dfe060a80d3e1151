"""`electeur bench lookup`: cost of turning a payload into an EpuLookup, per kind, against decoding the image.

The baseline is zxing-cpp decoding the same sample image in the same run: classification must stay
a small fraction of the decode it follows.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time

import numpy as np
import zxingcpp
from PIL import Image
from tqdm import tqdm

from host_bridge.argtypes import positive_int
from host_bridge.counter.pipeline import LookupPipeline
from host_bridge.payloads import build_lookup, default_profiles
from host_bridge.testbench.benches import median_us
from host_bridge.testbench.samples.generate import sample

NAME = "lookup"
HELP = "payload → EpuLookup cost per kind (median µs), compared with decoding the same image"


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--count", type=positive_int, default=60, help="samples (default 60)")
    parser.add_argument("--repeat", type=positive_int, default=20, help="timed repetitions per sample (default 20)")
    parser.add_argument("--seed", type=int, default=1)


def run(args: argparse.Namespace) -> int:
    default_profiles()
    per_kind: dict[str, list[tuple[float, float, float]]] = {}
    source = {"reader": "bench", "read_id": None, "engine": "zxing", "time": "2026-11-23T10:00:00+00:00"}
    gen_ms = []
    for i in tqdm(range(args.count), desc="bench lookup", file=sys.stderr, disable=None):
        t = time.perf_counter()
        entry, data, content = sample(args.seed, i)
        gen_ms.append((time.perf_counter() - t) * 1e3)
        gray = np.asarray(Image.open(io.BytesIO(data)).convert("L"))
        decode = median_us(lambda: zxingcpp.read_barcodes(gray), max(3, args.repeat // 4))
        lookup = median_us(lambda: build_lookup(content.payload, source=source), args.repeat)
        pipeline = LookupPipeline()
        with_session = median_us(lambda: pipeline.lookup(content.payload, {**source, "read_id": str(time.perf_counter_ns())}),
                                 args.repeat)
        per_kind.setdefault(entry["kind"], []).append((lookup, with_session, decode))
    print(f"{'kind':<11} {'n':>3} {'lookup µs':>10} {'+session µs':>12} {'decode µs':>10} {'lookup/decode':>14}")
    for kind, rows in sorted(per_kind.items()):
        lk, ss, dc = (statistics.median(r[k] for r in rows) for k in range(3))
        print(f"{kind:<11} {len(rows):>3} {lk:>10.1f} {ss:>12.1f} {dc:>10.1f} {lk / dc:>14.3f}")
    print(f"sample generation: median {statistics.median(gen_ms):.1f} ms/image")
    return 0
