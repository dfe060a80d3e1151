"""`electeur bench bridge`: frame → journaled lookup latency, and how many 15 fps readers one bridge keeps up with.

What is timed is the bridge's own work for one streamed frame: decode (the default cascade),
lookup building, and the durable journal write that precedes the ACK. The link (serial bytes)
is excluded. The baseline is decode alone on the same frames, so the ratio shows what the
bridge adds on top of decoding.
"""

from __future__ import annotations

import argparse
import queue
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from host_bridge.argtypes import positive_int, positive_float
from host_bridge.bridge.journal import Journal
from host_bridge.counter.pipeline import LookupPipeline
from host_bridge.decode.engines import get_engine
from host_bridge.testbench.synthetic_frames import RESOLUTIONS, empty_scene, printed_code
from host_bridge.link.frames import FrameReads
from host_bridge.link.reader_link import Frame
from host_bridge.payloads.lookup import now_source

NAME = "bridge"
HELP = "frame → journaled lookup latency (p50/p99, decode included, link excluded) and readers sustained at 15 fps"
FPS = 15


def register(p: argparse.ArgumentParser) -> None:
    p.add_argument("--frames", type=positive_int, default=60, help="frames per resolution (default 60)")
    p.add_argument("--sustain-seconds", type=positive_float, default=2.0, help="run time per reader count (default 2)")
    p.add_argument("--max-readers", type=positive_int, default=128, help="stop the reader ramp here (default 128)")


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


class Pipeline:
    """Streamed frame → decode → lookup → journal, as the bridge does (every sighting counts as new here)."""

    def __init__(self, journal: Journal) -> None:
        self.reads = FrameReads(get_engine(), self._record, dedupe_ms=0)
        self.journal = journal
        self.lookups = LookupPipeline()
        self.count = 0
        self._lock = threading.Lock()

    def _record(self, reader: int, frame_id: int, payload: bytes, meta: dict[str, Any]) -> None:
        with self._lock:
            self.count += 1
            read_id = str(self.count)
        self.journal.record(self.lookups.lookup(payload, now_source(f"reader-{reader}", meta["engine"], read_id)))

    def frame(self, reader: int, gray: np.ndarray) -> None:
        self.reads(reader, Frame(0, "gray8", gray.shape[1], gray.shape[0], gray.tobytes(), 0))


def latency(pipe: Pipeline, size: tuple[int, int], frames: int, label: str) -> tuple[list[float], list[float]]:
    scenes = [printed_code(size, seed=i) for i in range(frames)]
    total, decode_only = [], []
    for gray in tqdm(scenes, desc=f"latency {label}", file=sys.stderr, leave=False):
        t0 = time.perf_counter()
        pipe.reads.engine.decode(gray)
        decode_only.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        pipe.frame(0, gray)
        total.append((time.perf_counter() - t0) * 1000)
    return total, decode_only


def sustain(pipe: Pipeline, readers: int, seconds: float, size: tuple[int, int]) -> tuple[bool, float, int]:
    """`readers` threads each offering FPS frames/s (one in five shows a code) into a 1 s queue;
    a worker per core drains them. Sustained if no frame with a code was dropped and every reader got ≥ 95 % through."""
    frames = [printed_code(size, seed=i) if i % 5 == 0 else empty_scene(size, seed=i) for i in range(10)]
    queues = [queue.Queue(maxsize=FPS) for _ in range(readers)]
    done = [0] * readers
    dropped_codes = [0]
    stop = threading.Event()

    def reader(i: int) -> None:
        start, n = time.perf_counter(), 0
        while not stop.is_set():
            try:
                queues[i].put_nowait((n, frames[n % len(frames)]))
            except queue.Full:
                if n % 5 == 0:
                    dropped_codes[0] += 1
            n += 1
            time.sleep(max(0.0, start + n / FPS - time.perf_counter()))

    def worker(mine: list[int]) -> None:
        while not stop.is_set():
            busy = False
            for i in mine:
                try:
                    _, gray = queues[i].get_nowait()
                except queue.Empty:
                    continue
                pipe.frame(i, gray)
                done[i] += 1
                busy = True
            if not busy:
                time.sleep(0.002)

    workers = 2
    threads = [threading.Thread(target=reader, args=(i,), daemon=True) for i in range(readers)]
    threads += [threading.Thread(target=worker, args=(list(range(w, readers, workers)),), daemon=True) for w in range(workers)]
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(2)
    rate = min(done) / seconds
    return dropped_codes[0] == 0 and rate >= 0.95 * FPS, rate, dropped_codes[0]


def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        journal = Journal(Path(tmp) / "bench.sqlite")
        pipe = Pipeline(journal)
        print(f"frame → journaled lookup, {args.frames} frames per resolution (decode + lookup + WAL journal write; link excluded)")
        print(f"{'resolution':10} {'p50 ms':>8} {'p99 ms':>8} {'decode p50':>11} {'ratio p50':>10}")
        for label in ("QVGA", "VGA"):
            total, decode_only = latency(pipe, RESOLUTIONS[label], args.frames, label)
            base = statistics.median(decode_only)
            print(f"{label:10} {pct(total, 50):8.2f} {pct(total, 99):8.2f} {base:11.2f} {pct(total, 50) / base:9.2f}x")
        print(f"readers at {FPS} frames/s (VGA, 1 frame in 5 with a code), {args.sustain_seconds:g} s each:")
        best, n = 0, 1
        with tqdm(desc="sustain", file=sys.stderr, leave=False) as bar:
            while n <= args.max_readers:
                ok, rate, lost = sustain(pipe, n, args.sustain_seconds, RESOLUTIONS["VGA"])
                bar.update()
                print(f"  {n:3d} readers: slowest {rate:5.1f} frames/s, code frames dropped {lost}: {'ok' if ok else 'FALLS BEHIND'}")
                if not ok:
                    break
                best, n = n, n * 2
        print(f"sustained: {best} readers at {FPS} frames/s (doubling ramp; next step fell behind or hit --max-readers)")
        journal.close()
    return 0
