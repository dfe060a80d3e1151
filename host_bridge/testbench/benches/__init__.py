"""Benchmarks run by `electeur bench NAME`: one module each (NAME, HELP, register, run), and their shared timing
helpers."""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from host_bridge.errors import UserError
from host_bridge.testbench import virtual_reader as vr


def median_us(fn: Callable[[], Any], repeat: int) -> float:
    """Median wall time of `fn()` over `repeat` calls, in microseconds."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e6


def micropython_stdout(script: str, timeout_s: float = 600) -> str | None:
    """What `script` prints under MicroPython 1.27 (wasm, 192 KB heap, the firmware at /lib/firmware); None without
    Node and `make setup`; RuntimeError if it fails."""
    try:
        vr.command("micropython", Path("."), "framed")
    except UserError:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.py"
        path.write_text(script, encoding="utf-8")
        proc = subprocess.run(["node", str(vr.RUNNER), "--heap", "192k", "--mount", f"{vr.FIRMWARE}:/lib/firmware",
                               str(path)], capture_output=True, text=True, timeout=timeout_s, check=False)
    if proc.returncode:
        raise RuntimeError(f"MicroPython bench failed: {proc.stderr.strip()[-500:]}")
    return proc.stdout
