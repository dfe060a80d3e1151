"""`electeur bench firmware-decoder`: the on-board MicroPython QR decoder at QQVGA, QVGA and VGA.

Times under CPython and under real MicroPython 1.27 (wasm), the smallest starting heap in which a frame
decodes without the GC heap growing, and zxing-cpp and pyzbar on the same frames as the baseline.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np
import zxingcpp
from tqdm import tqdm

from host_bridge.decode.engines import get_engine
from host_bridge.decode.micropython_qr import decode_frames
from host_bridge.decode.synthetic import PRESCRIPTION, empty_scene, printed_code

NAME = "firmware-decoder"
HELP = "the MicroPython QR decoder (CPython and MicroPython wasm) vs zxing-cpp and pyzbar, QQVGA/QVGA/VGA"
SIZES: dict[str, tuple[int, int]] = {"QQVGA": (160, 120), "QVGA": (320, 240), "VGA": (640, 480)}
HEAPS_KB = (64, 96, 128, 160, 192, 256, 320, 384, 448, 512, 640, 768, 1024)
BASELINE = "zxing-cpp"


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("--runtime", choices=("cpython", "micropython", "both"), default="both",
                   help="where the firmware decoder runs (default both)")
    p.add_argument("--frames", type=int, default=6, help="frames with a code per resolution; as many empty ones (default 6)")
    p.add_argument("--repeat", type=int, default=3, help="CPython timings per frame, the median is kept (default 3)")


def _frames(size: tuple[int, int], n: int) -> list[tuple[np.ndarray, bytes | None]]:
    return ([(printed_code(size, seed), PRESCRIPTION.encode()) for seed in range(n)]
            + [(empty_scene(size, seed), None) for seed in range(n)])


def _median_ms(fn, gray: np.ndarray, repeat: int) -> tuple[list[bytes], float]:
    times, out = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn(gray)
        times.append((time.perf_counter() - t) * 1000.0)
    return out, statistics.median(times)


def _cpython_decoders() -> dict[str, object]:
    firmware = get_engine("firmware")
    decoders = {
        "firmware (CPython)": lambda g: [s.data for s in firmware.decode(g)],
        BASELINE: lambda g: [b.bytes for b in zxingcpp.read_barcodes(g, formats=zxingcpp.BarcodeFormat.QRCode) if b.valid],
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
    rows: list[tuple[str, str, int, int, float]] = []  # resolution, decoder, hits, codes, median ms
    heaps: dict[str, int | None] = {}
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
            mp_ms, mp_hits = [], 0
            for gray, expected in tqdm(frames, desc=f"bench {res} MicroPython", unit="frame", file=sys.stderr):
                run_ = decode_frames([gray], heap_kb=max(192, gray.size // 1024 + 128))
                mp_ms.append(float(run_.ms[0]))
                mp_hits += expected is not None and run_.payloads[0] == [expected]
            results["firmware (MicroPython wasm)"] = (mp_hits, mp_ms)
            heaps[res] = heap_needed_kb(frames[0][0])
        for name, (hits, times) in results.items():
            rows.append((res, name, hits, codes, statistics.median(times)))
    base = {r[0]: r[4] for r in rows if r[1] == BASELINE}
    print(f"{'frames':<7} {'decoder':<28} {'read':>7} {'median ms':>10} {'x ' + BASELINE:>12}")
    for res, name, hits, codes, ms in rows:
        print(f"{res:<7} {name:<28} {hits:>3}/{codes:<3} {ms:>10.2f} {ms / base[res]:>12.1f}")
    for res, kb in heaps.items():
        print(f"heap needed {res}: {f'{kb} KB' if kb else f'> {HEAPS_KB[-1]} KB'} (starting GC heap in which one frame decodes without growing)")
    return 0
