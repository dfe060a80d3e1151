"""`electeur bench firmware-decoder`: the on-board MicroPython QR decoder at QQVGA, QVGA and VGA.

Times under CPython and under real MicroPython 1.27 (wasm), the smallest starting heap in which a frame
decodes without the GC heap growing, and zxing-cpp and pyzbar on the same frames as the baseline; its cost
in host-independent units (pixels read, loop iterations as bytecode and as viper); on the real-photo corpus,
every decoder side by side and where firmware/qr loses the photos it misses. `--baseline DIR` runs another
firmware tree (an earlier version) through the same measurements in the same run.
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import numpy as np
import zxingcpp
from PIL import Image
from tqdm import tqdm

from host_bridge.argtypes import positive_int
from host_bridge.decode.engines import get_engine
from host_bridge.decode.image import load_gray
from host_bridge.testbench import corpus_table
from host_bridge.testbench.firmware_cost import Cost, frame_cost, rp2040_ms
from host_bridge.testbench.micropython_qr import decode_frames
from host_bridge.testbench.synthetic_frames import PRESCRIPTION, empty_scene, printed_code
from host_bridge.errors import UserError

NAME = "firmware-decoder"
HELP = "the MicroPython QR decoder (CPython and MicroPython wasm) vs zxing-cpp and pyzbar, QQVGA/QVGA/VGA"
SIZES: dict[str, tuple[int, int]] = {"QQVGA": (160, 120), "QVGA": (320, 240), "VGA": (640, 480)}
HEAPS_KB = (64, 96, 128, 160, 192, 256, 320, 384, 448, 512, 640, 768, 1024)
BASELINE = "zxing-cpp"
REPO_FIRMWARE = Path(__file__).resolve().parents[3] / "firmware"


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("--runtime", choices=("cpython", "micropython", "both"), default="both",
                   help="where the firmware decoder runs (default both)")
    p.add_argument("--frames", type=positive_int, default=6, help="frames with a code per resolution; as many empty ones (default 6)")
    p.add_argument("--repeat", type=positive_int, default=3, help="CPython timings per frame, the median is kept (default 3)")
    p.add_argument("--samples", type=Path, help="also score the QR codes of an `electeur samples` directory, "
                   "each image fitted into a QVGA frame: zxing-cpp reads vs identical firmware reads, wrong reads")
    p.add_argument("--corpus", type=Path, default=Path("../shared/corpus"),
                   help="real-photo corpus for the side-by-side table and the failure stages (default ../shared/corpus)")
    p.add_argument("--baseline", type=Path, help="another firmware tree (e.g. `git archive main firmware | tar -x -C /tmp/before`"
                   " then /tmp/before/firmware) measured in the same run: reads, failure stages, cost, MicroPython time")


def qvga(path: Path) -> np.ndarray:
    """An image as a QVGA camera would frame it: scaled to fit 320x240 (aspect kept), grey borders."""
    return corpus_table.framed(np.asarray(Image.open(path).convert("L")), (320, 240), upscale=True)


def score_samples(directory: Path, fit_qvga: bool) -> dict[str, list[int]]:
    """Per QR kind: [codes, zxing-cpp reads, firmware reads with identical bytes among those, wrong reads],
    on each image fitted into QVGA or at its own resolution."""
    manifest = directory / "manifest.json"
    if not manifest.is_file():
        raise UserError(f"{directory}: no manifest.json (make one with `electeur samples --out {directory}`)")
    firmware = get_engine("firmware")
    scores: dict[str, list[int]] = {}
    entries = [e for e in json.loads(manifest.read_text(encoding="utf-8")) if e.get("symbology") == "qr"]
    for entry in tqdm(entries, desc="bench samples", unit="image", file=sys.stderr):
        gray = qvga(directory / entry["file"]) if fit_qvga else load_gray(directory / entry["file"])
        expected = base64.b64decode(entry["payload_b64"])
        zx = [b.bytes for b in zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)) if b.valid]
        ours = [s.data for s in firmware.decode(gray)]
        row = scores.setdefault(entry["kind"], [0, 0, 0, 0])
        row[0] += 1
        row[1] += expected in zx
        row[2] += expected in zx and ours == [expected]
        row[3] += any(p != expected for p in ours)
    return scores


def _frames(size: tuple[int, int], n: int) -> list[tuple[np.ndarray, bytes | None]]:
    """n frames with the prescription code, then n empty scenes (same seeds every run)."""
    return ([(printed_code(size, seed), PRESCRIPTION.encode()) for seed in range(n)]
            + [(empty_scene(size, seed), None) for seed in range(n)])


Decoder = Callable[[np.ndarray], list[bytes]]


def _median_ms(fn: Decoder, gray: np.ndarray, repeat: int) -> tuple[list[bytes], float]:
    times, out = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn(gray)
        times.append((time.perf_counter() - t) * 1000.0)
    return out, statistics.median(times)


def _cpython_decoders() -> dict[str, Decoder]:
    """The firmware decoder under CPython and the baselines, each giving payload bytes."""
    firmware = get_engine("firmware")
    decoders: dict[str, Decoder] = {
        "firmware (CPython)": lambda g: [s.data for s in firmware.decode(g)],
        BASELINE: lambda g: [b.bytes for b in zxingcpp.read_barcodes(g, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)) if b.valid],
    }
    try:
        zbar = get_engine("zbar")
        decoders["pyzbar"] = lambda g: [s.data for s in zbar.decode(g)]
    except ImportError as exc:
        print(f"bench: pyzbar skipped ({exc})", file=sys.stderr)
    return decoders


def heap_needed_kb(gray: np.ndarray) -> int | None:
    """Smallest starting heap (KB, from HEAPS_KB) in which one frame decodes with the GC total unchanged."""
    for kb in HEAPS_KB:
        if kb * 1024 < gray.size:
            continue
        run = decode_frames([gray], heap_kb=kb)
        if run.heap_after == run.heap_before:
            return kb
    return None


def run(args: argparse.Namespace) -> int:
    if args.baseline is not None and not (args.baseline / "qr" / "decoder.py").is_file():
        raise UserError(f"{args.baseline}: not a firmware tree (no qr/decoder.py); give the `firmware` directory "
                        "of another checkout")
    scores = {res: score_samples(args.samples, res == "QVGA") for res in ("QVGA", "own size")} if args.samples else {}
    rows: list[tuple[str, str, int, int, float, float]] = []  # resolution, decoder, hits, codes, median ms code/empty
    heaps: dict[str, int | None] = {}
    costs: dict[str, dict[str, tuple[Cost, Cost, Cost, Cost]]] = {}
    decoders = _cpython_decoders()
    if args.runtime == "micropython":  # the baseline still runs: ratios need it
        decoders = {BASELINE: decoders[BASELINE]}
    for res, size in SIZES.items():
        frames = _frames(size, args.frames)
        codes = sum(1 for _, e in frames if e is not None)
        results: dict[str, tuple[int, list[float]]] = {}
        for gray, expected in tqdm(frames, desc=f"bench {res}", unit="frame", file=sys.stderr):
            for name, fn in decoders.items():
                found, ms = _median_ms(fn, gray, args.repeat)
                hits, times = results.get(name, (0, []))
                results[name] = (hits + (expected is not None and found == [expected]), times + [ms])
                if expected is None and found:
                    print(f"bench: {name} read {found!r} in an empty {res} frame", file=sys.stderr)
        if args.runtime in ("micropython", "both"):
            # one process per resolution, warmed up; its heap is large because this port grows its heap rather
            # than collect mid-decode (the heap a single frame needs is measured apart, cold, by heap_needed_kb)
            trees = {"firmware (MicroPython wasm)": REPO_FIRMWARE}
            if args.baseline:
                trees["baseline (MicroPython wasm)"] = args.baseline
            for _ in range(2):  # alternated, twice: a busy machine slows both versions alike
                for name, tree in trees.items():
                    run_ = decode_frames([g for g, _ in frames], heap_kb=16384, warmup=True, timeout=600, firmware=tree)
                    hits, times = results.get(name, (0, []))
                    times = times[:codes] + [float(ms) for ms in run_.ms[:codes]] + times[codes:] + [float(ms) for ms in run_.ms[codes:]]
                    if not hits:
                        hits = sum(1 for (_, e), p in zip(frames, run_.payloads) if e is not None and p == [e])
                    results[name] = (hits, times)
            heaps[res] = heap_needed_kb(frames[0][0])
        for name, (hits, times) in results.items():  # frames: codes first, then as many empty scenes
            n = len(times) // 2
            rows.append((res, name, hits, codes, statistics.median(times[:n]), statistics.median(times[n:])))
        costs[res] = _costs(frames, codes, args.baseline)
    base = {r[0]: r[4] for r in rows if r[1] == BASELINE}
    print(f"{'frames':<7} {'decoder':<28} {'read':>7} {'ms code':>9} {'x ' + BASELINE:>12} {'ms empty':>9}")
    for res, name, hits, codes, ms, ms_empty in rows:
        print(f"{res:<7} {name:<28} {hits:>3}/{codes:<3} {ms:>9.2f} {ms / base[res]:>12.1f} {ms_empty:>9.2f}")
    for res, kb in heaps.items():
        print(f"heap needed {res}: {f'{kb} KB' if kb else f'> {HEAPS_KB[-1]} KB'} (starting GC heap in which one frame decodes without growing)")
    _print_costs(costs, rows)
    if args.corpus.is_dir():
        _corpus(args)
    else:
        print(f"bench: corpus {args.corpus} not found, no side-by-side table", file=sys.stderr)
    for res, per_kind in scores.items():
        for kind, (codes, zx, same, wrong) in per_kind.items():
            print(f"samples at {res:<8}, {kind:<11} QR {codes:>3}: zxing-cpp reads {zx:>3}, firmware identical "
                  f"{same:>3} ({100.0 * same / max(zx, 1):.0f} %), wrong reads {wrong}")
    return 0


def _costs(frames: list[tuple[np.ndarray, bytes | None]], codes: int,
           baseline: Path | None) -> dict[str, tuple[Cost, Cost, Cost, Cost]]:
    """Per firmware version: median cost of a code frame and of an empty one, portable loops then viper."""
    trees = {"firmware/qr": corpus_table.load_firmware_decoder()}
    if baseline is not None:
        trees["baseline"] = corpus_table.load_firmware_decoder(baseline)
    out = {}
    for name, module in trees.items():
        per = [[frame_cost(module.decode, g, viper) for g, _ in frames] for viper in (False, True)]
        out[name] = (_median_cost(per[0][:codes]), _median_cost(per[0][codes:]),
                     _median_cost(per[1][:codes]), _median_cost(per[1][codes:]))
    return out


def _median_cost(costs: list[Cost]) -> Cost:
    return Cost(int(statistics.median(c.pixels for c in costs)), int(statistics.median(c.bytecode for c in costs)),
                int(statistics.median(c.viper for c in costs)))


def _print_costs(costs: dict[str, dict[str, tuple[Cost, Cost, Cost, Cost]]],
                 rows: list[tuple[str, str, int, int, float, float]]) -> None:
    """The host-independent cost table, and the wasm port's time per bytecode iteration in this run."""
    wasm = {r[0]: (r[4], r[5]) for r in rows if r[1] == "firmware (MicroPython wasm)"}
    print("cost per frame (median; loop iterations: portable = all bytecode, as on the wasm port; "
          "viper port = bytecode + viper)")
    print(f"{'frames':<7} {'version':<12} {'kind':<6} {'pixels read':>12} {'portable':>10} {'viper port':>21}")
    for res, per in costs.items():
        for name, (code, empty, vcode, vempty) in per.items():
            for kind, c, v in (("code", code, vcode), ("empty", empty, vempty)):
                print(f"{res:<7} {name:<12} {kind:<6} {c.pixels:>12,} {c.bytecode:>10,} {v.bytecode:>10,} + {v.viper:>8,}")
        for name, (_, _, vcode, _) in per.items():
            low, high = rp2040_ms(vcode)
            print(f"  {name}: a code frame on an RP2040 @125 MHz (estimate, docs/performance.md): {low:.0f}-{high:.0f} ms")
        if res in wasm and "firmware/qr" in per:
            code, empty = per["firmware/qr"][0], per["firmware/qr"][1]
            print(f"  wasm port, this run: {1000 * wasm[res][0] / code.bytecode:.2f} us per bytecode iteration (code frames), "
                  f"{1000 * wasm[res][1] / empty.bytecode:.2f} (empty)")


def _corpus(args: argparse.Namespace) -> None:
    """Every decoder side by side on the corpus photos (original, VGA, QVGA), MicroPython wasm included,
    then firmware/qr's failure stages (and the baseline's)."""
    table = corpus_table.frames(args.corpus)
    count = len(table["original"])
    cells = corpus_table.measure(table, corpus_table.decoders(baseline=args.baseline), args.repeat)
    if args.runtime in ("micropython", "both"):
        trees = {"firmware/qr (MicroPython wasm)": REPO_FIRMWARE}
        if args.baseline:
            trees["baseline (MicroPython wasm)"] = args.baseline
        for framing, items in table.items():
            for name, tree in trees.items():
                run_ = decode_frames([g for _, g, _ in items], heap_kb=16384, warmup=True, timeout=1800, firmware=tree)
                cell = cells.setdefault((framing, name), corpus_table.Cell())
                for (path, _, expected), found, ms in zip(items, run_.payloads, run_.ms):
                    cell.ms.append(float(ms))
                    cell.right += any(corpus_table.matches(p, expected) for p in found)
                    cell.wrong += any(corpus_table.wrong(p, expected, path) for p in found)
    corpus_table.print_table(cells, count)
    module = corpus_table.load_firmware_decoder()
    print("firmware/qr photos not read, by the stage where they were lost (decode(..., trace=[]))")
    corpus_table.print_stages("firmware/qr", corpus_table.failure_stages(table, module), module.STAGES)
    if args.baseline:
        corpus_table.print_stages("baseline", corpus_table.failure_stages(table, corpus_table.load_firmware_decoder(args.baseline)),
                                  module.STAGES)
