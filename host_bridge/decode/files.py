"""Which files a command decodes, and one file decoded into the v1 JSON row."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from host_bridge.decode.engines import Engine
from host_bridge.decode.image import SUFFIXES, ImageError, load_gray
from host_bridge.decode.printed_code import PrintedCodeEngine


def iter_images(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files as given (a missing one too: decoding it reports the error); directories walked recursively
    for image suffixes, in sorted order."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
        else:
            yield path


def decode_file(path: Path, engine: Engine) -> dict[str, Any]:
    """`{"file", "symbols", "ms"}`, or `{"file", "error"}` when the image cannot be read (the run goes on)."""
    return decode_row(path, lambda: load_gray(path), engine)


def decode_row(path: Path, load: Callable[[], Any], engine: Engine) -> dict[str, Any]:
    """The v1 decode row for `path`, whatever the gray image came from (file, streamed frame)."""
    try:
        gray = load()
    except ImageError as exc:
        return {"file": str(path), "error": str(exc)}
    started = time.perf_counter()
    symbols, printed = engine.read(gray) if isinstance(engine, PrintedCodeEngine) else (engine.decode(gray), None)
    ms = (time.perf_counter() - started) * 1000.0
    row = {"file": str(path), "symbols": [s.to_json() for s in symbols], "ms": round(ms, 3)}
    if printed is not None:
        row["printed_code"] = printed.to_json()
    return row
