"""`electeur decode`: read the 2D codes in image files, as a table or as v1 JSON lines."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from host_bridge.decode.engines import DEFAULT_ENGINE, ENGINES, Engine, get_engine
from host_bridge.decode.files import decode_file, iter_images
from host_bridge.decode.printed_code import PrintedCodeEngine
from host_bridge.errors import UserError


def add_engine_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", default=DEFAULT_ENGINE, help=f"decode engine: {', '.join(sorted(ENGINES))} (default {DEFAULT_ENGINE})")
    p.add_argument("--no-printed-code", action="store_true",
                   help="when no code reads, do not OCR the e-prescription number printed under the QR")


def engine_from(args: argparse.Namespace) -> Engine:
    try:
        engine = get_engine(args.engine)
    except (KeyError, ImportError) as exc:
        raise UserError(exc.args[0]) from None
    return engine if args.no_printed_code else PrintedCodeEngine(engine)


def listed_images(paths: list[str]) -> list[Path]:
    """The images a command will read; a directory with none is a mistake worth one line, not an empty run."""
    images = list(iter_images(paths))
    for raw in paths:
        if Path(raw).is_dir() and not any(image.is_relative_to(raw) for image in images):
            raise UserError(f"{raw}: no image (PNG, JPEG, WebP, PGM) found")
    return images


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("decode", help="decode 2D codes in image files or directories",
                       description="Decode QR and Data Matrix codes in PNG/JPEG/WebP/PGM files (directories recursively). "
                                   "Unreadable files are reported and the run goes on; the exit status is then 1. A directory with no image is refused (exit 2).")
    add_engine_option(p)
    p.add_argument("--json", action="store_true", help="one JSON object per image per line (format v1, docs/cli.md)")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.set_defaults(func=run)


def printable(text: str, width: int = 60) -> str:
    """A payload on one line: control characters escaped, long texts cut."""
    shown = text.encode("unicode_escape").decode("ascii") if not text.isprintable() else text
    return shown if len(shown) <= width else shown[: width - 1] + "…"


def run(args: argparse.Namespace) -> int:
    engine = engine_from(args)
    failed = 0
    for path in listed_images(args.paths):
        row = decode_file(path, engine)
        failed += "error" in row
        if args.json:
            print(json.dumps(row, ensure_ascii=False), flush=True)
        elif "error" in row:
            print(f"{row['file']}\tERROR\t{row['error']}", flush=True)
        elif not row["symbols"]:
            print(f"{row['file']}\t-\t{row['ms']:.2f} ms\t(no code)", flush=True)
        else:
            for s in row["symbols"]:
                print(f"{row['file']}\t{s['format']}\t{row['ms']:.2f} ms\t{s['engine']}\t{printable(s['text'])}", flush=True)
    return 1 if failed else 0
