"""The replay harness: decode labelled images and compare bytes.

An image is labelled by `N.txt` beside `N.png` (its expected payload, the convention of ZXing's
black-box sets and `../shared/corpus`), by an empty `N.nocode` beside it, or by lying under a
`--negatives` directory (a negative sample: no code must be read there, as ZXing's false-positive sets).
`replay_row` is the one place a row is built; callers that decode another way (through the reader, with
lookups) pass their own `decode` function and add fields to the rows it returns.
"""

from __future__ import annotations

import base64
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from host_bridge.decode.files import iter_images

Row = dict[str, Any]
Decode = Callable[[Path], Row]
NO_CODE_SUFFIX = ".nocode"


def expected_bytes(image: Path) -> bytes | None:
    """The expected payload of `image` (N.txt beside N.png), or None when nothing is expected."""
    txt = image.with_suffix(".txt")
    return txt.read_bytes() if txt.is_file() else None


class Labels:
    """What each image is expected to read: a payload, no code at all, or nothing said (not scored)."""

    def __init__(self, negatives: Sequence[str | Path] = ()) -> None:
        self.negatives = [Path(d).resolve() for d in negatives]

    def negative(self, image: Path) -> bool:
        """True for a negative sample: `N.nocode` beside it, or under a `--negatives` directory."""
        if image.with_suffix(NO_CODE_SUFFIX).is_file():
            return True
        path = image.resolve()
        return any(path.is_relative_to(d) for d in self.negatives)

    def labelled(self, image: Path) -> bool:
        return self.negative(image) or image.with_suffix(".txt").is_file()


def payloads(row: Row) -> list[bytes]:
    """Every way a decoded symbol may equal the expected bytes: raw payload, or its text as UTF-8."""
    out = []
    for sym in row.get("symbols", []):
        out += [base64.b64decode(sym["bytes_b64"]), sym["text"].encode("utf-8")]
    return out


def replay_row(image: Path, decode: Decode, labels: Labels | None = None) -> Row:
    """The decode row plus `expected` (text or null) and `ok` (bytes equal; null when nothing is expected).
    A negative sample also has `"negative": true`, and is ok when no code was read."""
    labels = labels or Labels()
    row = decode(image)
    expected = expected_bytes(image)
    row["expected"] = None if expected is None else expected.decode("utf-8", "replace")
    if expected is None and labels.negative(image):
        row["negative"] = True
        row["ok"] = "error" not in row and not row.get("symbols")
    else:
        row["ok"] = None if expected is None else expected in payloads(row)
    return row


def replay(dirs: Iterable[str | Path], decode: Decode, labels: Labels | None = None) -> Iterable[Row]:
    """Rows for every image under `dirs`, in order."""
    for image in iter_images(dirs):
        yield replay_row(image, decode, labels)


def read_texts(row: Row) -> list[str]:
    return [s["text"] for s in row.get("symbols", [])]


def failure(row: Row) -> dict[str, Any]:
    """What a harness user needs to see for a failed image: the file, what was expected, what was read."""
    out: dict[str, Any] = {"file": row["file"], "expected": None if row.get("negative") else row["expected"],
                           "read": read_texts(row)}
    if row.get("negative"):
        out["why"] = "false positive: a code was read in a negative sample" if out["read"] else "unreadable image"
    elif "error" in row:
        out["why"] = "unreadable image"
    else:
        out["why"] = "wrong payload" if out["read"] else "not read"
    if "error" in row:
        out["error"] = row["error"]
    return out


def summarise(rows: list[Row]) -> dict[str, Any]:
    """Per-directory counts (images, expected, read, missed, wrong, errors, negatives, false positives),
    the overall rate over every scored image, and the list of failures."""
    per_dir: dict[str, dict[str, Any]] = defaultdict(lambda: {"images": 0, "expected": 0, "read": 0, "missed": 0,
                                                               "wrong": 0, "errors": 0, "negatives": 0,
                                                               "false_positives": 0, "ms": []})
    failures = []
    for row in rows:
        d = per_dir[str(Path(row["file"]).parent)]
        d["images"] += 1
        if "error" in row:
            d["errors"] += 1
        else:
            d["ms"].append(row["ms"])
        if row["ok"] is None:
            continue
        if not row["ok"]:
            failures.append(failure(row))
        if row.get("negative"):
            d["negatives"] += 1
            d["false_positives"] += bool(row.get("symbols"))
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
    totals = {k: sum(d[k] for d in dirs.values()) for k in ("expected", "read", "negatives", "false_positives")}
    scored = totals["expected"] + totals["negatives"]
    right = scored - len(failures)
    return {"version": 1, "dirs": dirs, **totals, "scored": scored,
            "rate": (right / scored) if scored else 1.0, "failures": failures}
