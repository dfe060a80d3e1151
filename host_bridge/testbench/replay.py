"""The replay harness: decode images that have an expected text (`N.txt` beside `N.png`) and compare bytes.

`replay_row` is the one place a row is built; callers that decode another way (through the reader, with
lookups) pass their own `decode` function and add fields to the rows it returns.
"""

from __future__ import annotations

import base64
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Iterable

from host_bridge.decode.files import iter_images

Row = dict[str, Any]
Decode = Callable[[Path], Row]


def expected_bytes(image: Path) -> bytes | None:
    """The expected payload of `image` (N.txt beside N.png), or None when nothing is expected."""
    txt = image.with_suffix(".txt")
    return txt.read_bytes() if txt.is_file() else None


def payloads(row: Row) -> list[bytes]:
    """Every way a decoded symbol may equal the expected bytes: raw payload, or its text as UTF-8."""
    out = []
    for sym in row.get("symbols", []):
        out += [base64.b64decode(sym["bytes_b64"]), sym["text"].encode("utf-8")]
    return out


def replay_row(image: Path, decode: Decode) -> Row:
    """The decode row plus `expected` (text or null) and `ok` (bytes equal; null when nothing expected)."""
    row = decode(image)
    expected = expected_bytes(image)
    row["expected"] = None if expected is None else expected.decode("utf-8", "replace")
    row["ok"] = None if expected is None else expected in payloads(row)
    return row


def replay(dirs: Iterable[str | Path], decode: Decode) -> Iterable[Row]:
    """Rows for every image under `dirs`, in order."""
    for image in iter_images(dirs):
        yield replay_row(image, decode)


def summarise(rows: list[Row]) -> dict[str, Any]:
    """Per-directory counts (images, expected, read, missed, wrong, errors) and the overall rate."""
    per_dir: dict[str, dict[str, Any]] = defaultdict(lambda: {"images": 0, "expected": 0, "read": 0, "missed": 0,
                                                               "wrong": 0, "errors": 0, "ms": []})
    for row in rows:
        d = per_dir[str(Path(row["file"]).parent)]
        d["images"] += 1
        if "error" in row:
            d["errors"] += 1
        else:
            d["ms"].append(row["ms"])
        if row["ok"] is None:
            continue
        d["expected"] += 1
        if row["ok"]:
            d["read"] += 1
        elif row.get("symbols"):
            d["wrong"] += 1
        else:
            d["missed"] += 1
    dirs = {}
    for name, d in sorted(per_dir.items()):
        ms = d.pop("ms")
        dirs[name] = {**d, "median_ms": round(statistics.median(ms), 3) if ms else None}
    expected = sum(d["expected"] for d in dirs.values())
    read = sum(d["read"] for d in dirs.values())
    return {"version": 1, "dirs": dirs, "expected": expected, "read": read,
            "rate": (read / expected) if expected else 1.0}
