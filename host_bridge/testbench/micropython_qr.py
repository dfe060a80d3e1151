"""Run the firmware QR decoder under real MicroPython on gray frames: 1.27 (wasm port, Node) or 1.29 (unix port).

One runner process per call; the frames go in as PGM files of a temporary directory (mounted into the wasm
port's memory file system). When an allocation fails mid-computation the wasm port grows its heap rather
than collect, so a decode that leaves "GC: total" unchanged allocated less than the free heap in all: a
strict proof that it runs in that heap on a board. The unix port's heap is fixed (MemoryError past it) and
it compiles viper, so there the decoder runs its viper pixel loops unless `portable` is set.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from host_bridge.package_data import firmware_dir, micropython_command, micropython_script
from host_bridge.testbench import unix_port

SCRIPT = micropython_script("qr_frames.py")
GC_TOTAL = re.compile(rb"GC: total: (\d+)")


@dataclass(frozen=True)
class MicroPythonRun:
    """Per frame: decode ms and payloads; the GC heap total before and after decoding; whether viper ran."""

    ms: list[int]
    payloads: list[list[bytes]]
    heap_before: int
    heap_after: int
    viper: bool


def decode_frames(frames: list[np.ndarray], heap_kb: int = 192, timeout: float = 120.0,
                  warmup: bool = False, runtime: str = "micropython", portable: bool = False,
                  firmware: Path | None = None) -> MicroPythonRun:
    """Decode `frames` (uint8 gray) one after the other in one MicroPython process started with heap_kb.

    warmup: decode the first frame once, untimed, before timing them all (Node's wasm tier-up makes a
    cold first frame slow; boards have no such warm-up). runtime: "micropython" (wasm) or "micropython-unix".
    portable: the portable pixel loops even where the port compiles viper. firmware: the firmware tree to
    run (another version's, for a same-run comparison; wasm port only; default: this package's).
    """
    firmware = firmware or firmware_dir()
    if runtime == "micropython-unix" and firmware != firmware_dir():
        raise ValueError("another firmware tree runs on the wasm port only")
    flags = ["--portable"] * portable + ["--warmup"] * warmup
    with tempfile.TemporaryDirectory() as tmp:
        names = []
        for i, gray in enumerate(frames):
            h, w = gray.shape
            (Path(tmp) / f"f{i}.pgm").write_bytes(b"P5\n%d %d\n255\n" % (w, h) + np.ascontiguousarray(gray, np.uint8).tobytes())
            names.append(f"/frames/f{i}.pgm")
        if runtime == "micropython-unix":
            cmd = unix_port.argv(f"{heap_kb}k", str(SCRIPT), *flags, *(tmp + n[len("/frames"):] for n in names))
        else:
            shutil.copy(SCRIPT, Path(tmp) / SCRIPT.name)
            cmd = micropython_command("--mount", f"{firmware}:/lib/firmware", "--mount", f"{tmp}:/frames",
                                      str(Path(tmp) / SCRIPT.name), *flags, *names, heap=f"{heap_kb}k")
        proc = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"MicroPython run failed ({proc.returncode}): {proc.stderr.decode(errors='replace')[-2000:]}")
    totals = [int(m) for m in GC_TOTAL.findall(proc.stdout)]
    ms, payloads = [], []
    for line in proc.stdout.splitlines():
        if line.startswith(b"frame "):
            parts = line.split(b" ")
            ms.append(int(parts[1]))
            payloads.append([bytes.fromhex(x.decode()) for x in parts[2].split(b",") if x] if len(parts) > 2 else [])
    return MicroPythonRun(ms, payloads, totals[0], totals[-1], b"viper True" in proc.stdout)
