"""The virtual reader: the real firmware (`firmware/on_host.py`) in a child process, on CPython, on MicroPython
1.27 (wasm port, Node) or on MicroPython 1.29 (unix port, `host_bridge.testbench.unix_port`).

MicroPython has no image decoders, so images are converted here to 8-bit PGM frames (the exact gray values
direct replay decodes) in a temporary directory with `frames.txt` giving their order. With frame format
`jpeg` they are written as gray JPEG files instead, which the simulated camera streams as they are (the JPEG
bytes a real ESP32 or ArduCAM camera delivers; the board decodes nothing).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO, Iterable

from PIL import Image

from host_bridge.decode.image import ImageError, load_gray
from host_bridge.errors import UserError
from host_bridge.testbench import unix_port

REPO = Path(__file__).resolve().parents[2]
FIRMWARE = REPO / "firmware"
RUNNER = REPO / "tools" / "micropython" / "run.mjs"
BOARD_HEAP = "240608"                # the MicroPython heap a Pico has free at boot (docs/firmware.md, "The simulated board")
RUNTIMES = ("cpython", "micropython", "micropython-unix")
MODES = ("framed", "line", "hid", "tcp")
FRAME_FORMATS = ("gray8", "jpeg")
JPEG_QUALITY = 90                   # a camera module's usual setting (micropython-camera-API defaults to 85)


def write_frames(images: Iterable[Path], dest: Path, frame_format: str = "gray8") -> dict[Path, str]:
    """Convert `images` to PGM (or JPEG) frames in `dest`, in order; returns the images that failed, with the reason."""
    failed: dict[Path, str] = {}
    names = []
    for image in images:
        try:
            gray = load_gray(image)
        except ImageError as exc:
            failed[image] = str(exc)
            continue
        if frame_format == "jpeg":
            name = f"{len(names):05d}.jpg"
            Image.fromarray(gray).save(dest / name, "JPEG", quality=JPEG_QUALITY)
        else:
            name = f"{len(names):05d}.pgm"
            h, w = gray.shape
            (dest / name).write_bytes(b"P5\n%d %d\n255\n" % (w, h) + gray.tobytes())
        names.append(name)
    (dest / "frames.txt").write_text("".join(n + "\n" for n in names), encoding="ascii")
    return failed


def command(runtime: str, frames: Path, mode: str, show_ms: int = 0, loop: bool = False, idle: bool = False,
            decode: str = "auto", drain_ms: int = 30000, heap: str = BOARD_HEAP, frame_format: str = "gray8",
            flash: Path | None = None) -> list[str]:
    """The argv that runs the firmware's simulator on `runtime`; `flash` (CPython, unix port) is the directory
    that plays the board's flash (config.json, the outbox kept across restarts). On the unix port (whose heap
    never grows, and whose objects are twice a 32-bit board's: 8-byte words) the heap is twice `heap`, plus room
    for three of the largest frame: a camera board keeps its one frame
    buffer, of one size, outside the GC heap (PSRAM, the driver's DMA buffer); the simulated camera keeps it in
    the heap, holds two while the frame size changes, and image files of many sizes fragment the heap."""
    args = ["--images", str(frames), "--mode", mode, "--show-ms", str(show_ms), "--decode", decode,
            "--drain-ms", str(drain_ms), "--stream-format", frame_format]
    args += ["--loop"] * loop + ["--idle"] * idle
    if flash is not None:
        if runtime == "micropython":
            raise UserError("--flash needs --runtime cpython or micropython-unix (the wasm port's filesystem lives in memory)")
        args += ["--flash", str(flash)]
    if runtime == "cpython":
        return [sys.executable, "-m", "firmware.on_host", *args]
    if runtime == "micropython-unix":
        return unix_port.argv(2 * unix_port.heap_bytes(heap) + 3 * largest_frame(frames), "-m", "firmware.on_host", *args)
    if runtime != "micropython":
        raise UserError(f"unknown runtime {runtime!r} (choose from {', '.join(RUNTIMES)})")
    node = shutil.which("node")
    if node is None or not (RUNNER.parent / "node_modules").is_dir():
        raise UserError("MicroPython runtime needs Node and `make setup` (tools/micropython/node_modules)")
    args[1] = "/frames"
    return [node, str(RUNNER), "--heap", heap, "--mount", f"{FIRMWARE}:/lib/firmware",
            "--mount", f"{frames}:/frames", str(FIRMWARE / "on_host.py"), *args]


def largest_frame(frames: Path) -> int:
    """Bytes of the largest frame file in `frames` (0 when there is none)."""
    return max((p.stat().st_size for p in frames.iterdir() if p.suffix in (".pgm", ".jpg")), default=0)


class PipeStream:
    """The child's stdout/stdin as the byte stream a ReaderLink reads and writes."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.proc = proc
        self._out: IO[bytes] = proc.stdout  # type: ignore[assignment]
        self._in: IO[bytes] = proc.stdin  # type: ignore[assignment]

    def read(self, size: int) -> bytes:
        return self._out.read1(size)  # type: ignore[attr-defined]

    def write(self, data: bytes) -> None:
        try:
            self._in.write(data)
            self._in.flush()
        except (BrokenPipeError, ValueError):
            pass                        # the reader has exited; what it had not delivered it reported


def frames_dir() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix="electeur-sim-")
