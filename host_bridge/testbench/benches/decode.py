"""`electeur bench decode`: every engine side by side on the real-photo corpus and on synthetic frames.

Medians per image, ratio to pyzbar (zbar) measured in the same run, and the QR-only zxing-cpp miss time
that the cascade's cost on empty frames is compared with; then the QR photos at original size, VGA and QVGA
for the cascade, zxing-cpp, zbar, quirc, OpenCV WeChat and firmware/qr (`corpus_table`).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import zxingcpp
from tqdm import tqdm

from host_bridge.argtypes import positive_int
from host_bridge.decode.engines import ENGINES, get_engine
from host_bridge.decode.files import iter_images
from host_bridge.decode.image import load_gray
from host_bridge.testbench.synthetic_frames import PRESCRIPTION, RESOLUTIONS, empty_scene, printed_code
from host_bridge.testbench import corpus_table

NAME = "decode"
HELP = "decode engines side by side: corpus photos and synthetic QVGA/VGA/HD/UXGA frames"
BASELINE = "zbar"
BUILTIN = ("zxing", "zbar", "cascade")


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("--corpus", type=Path, default=Path("../shared/corpus"), help="real-photo corpus (default ../shared/corpus)")
    p.add_argument("--frames", type=positive_int, default=12, help="synthetic frames per kind and resolution (default 12)")
    p.add_argument("--repeat", type=positive_int, default=3, help="timings per frame; the median is kept (default 3)")


def timed(fn: Callable[[np.ndarray], list[Any]], gray: np.ndarray, repeat: int) -> tuple[list[Any], float]:
    result: list[Any] = []
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn(gray)
        times.append((time.perf_counter() - t) * 1000.0)
    return result, statistics.median(times)


def qr_only(gray: np.ndarray) -> list[Any]:
    return zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode))


def run(args: argparse.Namespace) -> int:
    engines = {name: get_engine(name) for name in BUILTIN if name in ENGINES}
    tasks: list[tuple[str, np.ndarray, bytes | None]] = []
    if args.corpus.is_dir():
        for path in iter_images([args.corpus]):
            tasks.append((f"corpus {path.parent.name}", load_gray(path), corpus_table.expected_of(path)))
    else:
        print(f"bench: corpus {args.corpus} not found, synthetic frames only", file=sys.stderr)
    for res, size in RESOLUTIONS.items():
        tasks += [(f"code {res}", printed_code(size, seed), PRESCRIPTION.encode()) for seed in range(args.frames)]
        tasks += [(f"empty {res}", empty_scene(size, seed), None) for seed in range(args.frames)]
    hits: dict[tuple[str, str], int] = {}
    ms: dict[tuple[str, str], list[float]] = {}
    for group, gray, expected in tqdm(tasks, desc="bench decode", unit="frame", file=sys.stderr):
        for name, engine in {**engines, "zxing QR-only": None}.items():
            fn = engine.decode if engine else qr_only
            if engine is None and not group.startswith("empty"):
                continue
            symbols, t = timed(fn, gray, args.repeat)
            ms.setdefault((group, name), []).append(t)
            if group.startswith("corpus"):
                ms.setdefault(("corpus (all)", name), []).append(t)
            if expected is not None:
                hits[(group, name)] = hits.get((group, name), 0) + any(
                    corpus_table.matches(s.data, expected) or s.text.encode() == expected for s in symbols)
    groups = list(dict.fromkeys(g for g, _, _ in tasks))
    if any(g.startswith("corpus") for g in groups):
        groups.insert(0, "corpus (all)")
    names = list(engines)
    print(f"{'frames':<22} {'n':>4}  " + "  ".join(f"{n + ' hits':>13} {'ms':>7} {'x' + BASELINE:>6}" for n in names)
          + f"  {'zxing QR-only ms':>16}")
    for group in groups:
        n = len(ms[(group, BASELINE)])
        base = statistics.median(ms[(group, BASELINE)])
        cells = []
        for name in names:
            med = statistics.median(ms[(group, name)])
            h = f"{hits[(group, name)]}/{n}" if (group, name) in hits else "-"
            cells.append(f"{h:>13} {med:7.2f} {base / med:5.1f}x")
        qr = ms.get((group, "zxing QR-only"))
        extra = f"  {statistics.median(qr):16.3f} (cascade {statistics.median(ms[(group, 'cascade')]) / statistics.median(qr):.2f}x)" if qr else ""
        print(f"{group:<22} {n:>4}  " + "  ".join(cells) + extra)
    print(f"(median ms per frame; x{BASELINE} = {BASELINE} median / engine median, same run; hits = expected payload read, "
          "byte for byte or as the same text in the corpus's charsets)")
    if args.corpus.is_dir():
        table = corpus_table.frames(args.corpus)
        corpus_table.print_table(corpus_table.measure(table, corpus_table.decoders(), args.repeat), len(table["original"]))
    return 0
