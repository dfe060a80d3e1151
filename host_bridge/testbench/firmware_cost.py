"""The cost of firmware/qr in units that do not depend on the host: frame pixels read and Python-level loop
iterations per frame, split into the loops a board runs as bytecode and those it runs as viper machine code
(firmware/qr/fast.py), counted by running the decoder under CPython with a line tracer.

A board's time is then iterations x its time per iteration (docs/performance.md derives the per-board figures).
"""

from __future__ import annotations

import ast
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Callable

import numpy as np

FIRMWARE_QR = Path(__file__).resolve().parents[2] / "firmware" / "qr"
FAST = FIRMWARE_QR / "fast.py"


def viper_source(fast: Path = FAST) -> str:
    """The viper code that firmware/qr/fast.py compiles on a board: viper.py's SOURCE string (in firmware trees
    before viper.py, fast.py's own)."""
    namespace: dict[str, object] = {}
    holder = fast.with_name("viper.py")
    text = (holder if holder.exists() else fast).read_text(encoding="utf-8")
    exec(compile(text.split("\nexec(SOURCE)")[0], str(fast), "exec"), namespace)
    return str(namespace["SOURCE"])


def viper_under_cpython(source: str, filename: str) -> types.ModuleType:
    """Viper source executed by CPython: `@micropython.viper` a no-op, `ptr8` the buffer itself, `ptr16` a 16-bit
    view of it; the same integer code, so its results can be compared with the portable twin's."""
    stub = types.ModuleType("micropython")
    stub.viper = lambda f: f  # type: ignore[attr-defined]
    module = types.ModuleType("viper_cpython")
    module.__dict__["ptr8"] = lambda b: b
    module.__dict__["ptr16"] = lambda b: memoryview(b).cast("B").cast("H")
    saved = sys.modules.get("micropython")
    sys.modules["micropython"] = stub
    try:
        exec(compile(source, filename, "exec"), module.__dict__)
    finally:
        if saved is None:
            del sys.modules["micropython"]
        else:
            sys.modules["micropython"] = saved
    return module


def fast_under_cpython(fast: Path = FAST) -> types.ModuleType:
    """firmware/qr/fast.py's viper code executed by CPython (`viper_under_cpython`)."""
    return viper_under_cpython(viper_source(fast), str(fast))


def _loop_lines(source: str) -> set[int]:
    """Line numbers of the `for` and `while` headers of a source (each iteration passes its header once)."""
    return {n.lineno for n in ast.walk(ast.parse(source)) if isinstance(n, (ast.For, ast.While))}


def count_loops(run: Callable[[], object], lines_for: Callable[[str], tuple[set[int], int] | None],
                slots: int = 1) -> list[int]:
    """Loop iterations while `run()` runs, by a line tracer: each pass through one of the loop-header lines that
    `lines_for(filename)` gives for a file counts in the slot it names; files it maps to None are not traced."""
    counts = [0] * slots

    def tracer(frame: FrameType, event: str, arg: Any) -> Any:  # sys.settrace: returns the local tracer or None
        found = lines_for(frame.f_code.co_filename)
        if not found or not found[0]:
            return None
        lines, slot = found

        def local(frame: FrameType, event: str, arg: object) -> Callable[..., object]:
            if event == "line" and frame.f_lineno in lines:
                counts[slot] += 1
            return local
        return local

    sys.settrace(tracer)
    try:
        run()
    finally:
        sys.settrace(None)
    return counts


def source_loops(root: Path) -> Callable[[str], tuple[set[int], int] | None]:
    """`count_loops`' `lines_for` for every Python file under `root` (slot 0), each parsed once when first run."""
    parsed: dict[str, set[int]] = {}

    def lines_for(name: str) -> tuple[set[int], int] | None:
        if not name.startswith(str(root)):
            return None
        if name not in parsed:
            parsed[name] = _loop_lines(Path(name).read_text(encoding="utf-8"))
        return parsed[name], 0
    return lines_for


class _CountingFrame(bytes):
    """A frame buffer that counts the reads of its pixels (indexing from Python code, the decoder's only access)."""

    reads = 0

    def __getitem__(self, i: Any) -> Any:
        _CountingFrame.reads += 1
        return bytes.__getitem__(self, i)


@dataclass(frozen=True)
class Cost:
    """Per frame: pixel reads, loop iterations run as bytecode, loop iterations a viper port runs natively."""

    pixels: int
    bytecode: int
    viper: int


# An RP2040 at 125 MHz (the Pico, the slowest supported board), calibrated on issue 12's run of the decoder
# on an emulated RP2040 (docs/performance.md, "Per-board estimate"): µs per bytecode loop iteration on code
# frames (their loop bodies are heavier than an empty frame's 7.5), and per viper iteration (assumed a tenth).
RP2040_US_PER_BYTECODE = (14.0, 21.0)
RP2040_US_PER_VIPER = 0.75


def rp2040_ms(cost: Cost) -> tuple[float, float]:
    """(low, high) estimate of a code frame's decode time on an RP2040, from its counts on a viper port."""
    low, high = RP2040_US_PER_BYTECODE
    viper = cost.viper * RP2040_US_PER_VIPER
    return (cost.bytecode * low + viper) / 1000, (cost.bytecode * high + viper) / 1000


def frame_cost(decode: Callable[..., Any], gray: np.ndarray, viper: bool) -> Cost:
    """Count one decode of `gray` by `decode` (firmware.qr.decoder.decode of any firmware tree); viper: with
    its fast.py loops (as on a board that compiles viper), counted apart, else the portable loops (the wasm
    port, or a board without viper)."""
    qr = Path(decode.__code__.co_filename).parent
    viper_loops = _loop_lines(viper_source(qr / "fast.py"))
    fast = fast_under_cpython(qr / "fast.py") if viper else None
    portable = source_loops(qr)

    def lines_for(name: str) -> tuple[set[int], int] | None:
        return (viper_loops, 1) if name == str(qr / "fast.py") and fast is not None else portable(name)

    buf = _CountingFrame(np.ascontiguousarray(gray, np.uint8).tobytes())
    _CountingFrame.reads = 0
    counts = count_loops(lambda: decode(buf, gray.shape[1], gray.shape[0], fast=fast), lines_for, slots=2)
    return Cost(_CountingFrame.reads, counts[0], counts[1])
