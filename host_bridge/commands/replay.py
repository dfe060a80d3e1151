"""`electeur replay`: the test-harness mode, through the whole pipeline (decode → classify → lookup → ePU).

Exit 1 when fewer labelled images were right than --min-rate (expected texts read, negative samples
with no code read), or, in a directory with a samples manifest.json, fewer images were read and
classified right than --min-rate. Exit 2 before any decoding when there is nothing to score.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any, Callable

from host_bridge.commands.decode import add_engine_option, engine_from, listed_images
from host_bridge.counter.pipeline import LookupPipeline
from host_bridge.decode.files import decode_file
from host_bridge.epu.client import EpuClient, default_base_url
from host_bridge.errors import UserError
from host_bridge.testbench import replay
from host_bridge.testbench.accuracy import MANIFEST, format_report, load_manifest, score_rows
from host_bridge.testbench.junit import junit_xml
from host_bridge.testbench.virtual_reader import FRAME_FORMATS, RUNTIMES


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("replay", help="replay image directories through decode → lookup (→ ePU) and check them",
                       description="Decode every image under DIR and turn each code into an EpuLookup; where N.txt is beside "
                                   "N.png/N.jpg, compare byte for byte; where DIR has a samples manifest.json, score kinds and "
                                   "fields per kind. Exit 1 when a rate is below --min-rate.")
    add_engine_option(p)
    p.add_argument("dirs", nargs="*", metavar="DIR")
    p.add_argument("--json", action="store_true", help="one JSON object per image per line (format v1, docs/cli.md)")
    p.add_argument("--report", type=Path, metavar="FILE", help="write a JSON summary to FILE (with every failure)")
    p.add_argument("--junit", type=Path, metavar="FILE", help="write JUnit XML to FILE: one test case per image")
    p.add_argument("--negatives", action="append", default=[], type=Path, metavar="DIR",
                   help="images under DIR are negative samples: no code must be read (also: an empty N.nocode "
                        "beside N.png); repeatable")
    p.add_argument("--min-rate", type=float, default=1.0, metavar="R",
                   help="minimum rate of expected texts read, and of manifest images read right (default 1.0)")
    p.add_argument("--epu", nargs="?", const="", metavar="URL",
                   help="consult ePU for e-prescriptions (default URL: $ELECTEUR_EPU_URL or the local sandbox)")
    p.add_argument("--session", action="store_true",
                   help="treat all images as one counter session (cross-checks between them)")
    p.add_argument("--via-reader", choices=RUNTIMES, metavar="RUNTIME",
                   help="send the images through the virtual reader (cpython, micropython: wasm port, micropython-unix: "
                        "unix port) and the wire protocol")
    p.add_argument("--frame-format", choices=FRAME_FORMATS, default="gray8",
                   help="with --via-reader: stream frames as 8-bit gray (default) or as JPEG, as camera modules send them")
    p.set_defaults(func=run)


def print_table(summary: dict[str, Any]) -> None:
    print(f"{'directory':<50} {'images':>6} {'expected':>8} {'read':>5} {'missed':>6} {'wrong':>5} {'errors':>6} "
          f"{'no-code':>7} {'false+':>6} {'median ms':>9}")
    for name, d in summary["dirs"].items():
        ms = "-" if d["median_ms"] is None else f"{d['median_ms']:.2f}"
        print(f"{name:<50} {d['images']:>6} {d['expected']:>8} {d['read']:>5} {d['missed']:>6} {d['wrong']:>5} "
              f"{d['errors']:>6} {d['negatives']:>7} {d['false_positives']:>6} {ms:>9}")
    for f in summary["failures"][:20]:
        print(f"  FAIL {f['file']}: {f['why']}; expected {f['expected']!r}, read {f['read'] or 'nothing'}")
    if len(summary["failures"]) > 20:
        print(f"  ... {len(summary['failures']) - 20} more failures (all in --report / --junit)")
    negatives = (f"; {summary['negatives']} negative samples, {summary['false_positives']} false positives"
                 if summary["negatives"] else "")
    print(f"read {summary['read']}/{summary['expected']} expected texts{negatives} (rate {summary['rate']:.3f}) "
          f"with engine {summary['engine']}")


def check_writable(path: Path | None, option: str) -> None:
    """Refuse an output file that cannot be written before the run, not after it."""
    if path is None:
        return
    parent = path.parent if str(path.parent) else Path(".")
    if path.is_dir():
        raise UserError(f"cannot write {option} {path}: is a directory")
    if not parent.is_dir():
        raise UserError(f"cannot write {option} {path}: no directory {parent}")
    if not os.access(parent, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UserError(f"cannot write {option} {path}: permission denied")


def check_scorable(dirs: list[str], labels: replay.Labels) -> list[Path]:
    """The images to replay; a harness run that would score nothing is a broken corpus: say so before decoding."""
    images = listed_images(dirs)
    if not any((Path(d) / MANIFEST).is_file() for d in dirs) and not any(labels.labelled(i) for i in images):
        raise UserError(f"nothing to score in {', '.join(dirs)}: no N.txt (expected text) or N.nocode (negative "
                        f"sample) beside the images, no {MANIFEST}, no --negatives directory; "
                        "'electeur decode' reads unlabelled images")
    return images


def manifest_verdicts(manifests: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Resolved image path → manifest verdict ("ok" or why not), for the JUnit cases."""
    out = {}
    for d in manifests:
        entries = load_manifest(Path(d)) or []
        out.update({str((Path(d) / e["file"]).resolve()): "ok" for e in entries})
        out.update({str((Path(d) / f["file"]).resolve()): f"{f['kind']} {f['verdict']}" for f in manifests[d]["failures"]})
    return out


def run(args: argparse.Namespace) -> int:
    if not 0.0 <= args.min_rate <= 1.0:
        raise UserError("--min-rate must be between 0 and 1")
    if args.frame_format != "gray8" and not args.via_reader:
        raise UserError("--frame-format needs --via-reader")
    for d in [*args.dirs, *args.negatives]:
        if not Path(d).is_dir():
            raise UserError(f"{d}: not a directory")
    if not args.dirs and not args.negatives:
        raise UserError("give at least one DIR of images (or --negatives DIR)")
    args.dirs += [str(n) for n in args.negatives
                  if not any(n.resolve().is_relative_to(Path(d).resolve()) for d in args.dirs)]
    check_writable(args.report, "report")
    check_writable(args.junit, "JUnit file")
    labels = replay.Labels(args.negatives)
    images = check_scorable(args.dirs, labels)   # walked once: every later step takes this list
    engine = engine_from(args)
    epu = EpuClient(args.epu or default_base_url()) if args.epu is not None else None
    pipeline = LookupPipeline(epu=epu, sessions=args.session)
    decode: Callable[[Path], dict[str, Any]] = lambda image: decode_file(image, engine)  # noqa: E731
    if args.via_reader:
        from host_bridge.testbench.via_reader import reader_rows
        via = reader_rows(images, args.via_reader, engine, frame_format=args.frame_format)
        decode = via.__getitem__
    rows = []
    for row in replay.replay(images, lambda image: pipeline.add_to_row(decode(image)), labels):
        rows.append(row)
        if args.json:
            print(json.dumps(row, ensure_ascii=False), flush=True)
    summary = {**replay.summarise(rows), "engine": engine.name, "min_rate": args.min_rate}
    try:
        manifests = {d: r for d in args.dirs if (r := score_rows(Path(d), rows)) is not None}
    except ValueError as exc:
        raise UserError(str(exc)) from None
    if manifests:
        summary["manifests"] = manifests
    if not args.json:
        print_table(summary)
        for d, report in manifests.items():
            print(f"{d}: samples manifest\n{format_report(report)}")
    if args.report:
        write(args.report, (json.dumps(summary, indent=2) + "\n").encode("utf-8"), "report")
    if args.junit:
        write(args.junit, junit_xml(rows, engine.name, manifest_verdicts(manifests)), "JUnit file")
    rates = [summary["rate"]] + [r["rate"] for r in manifests.values()]
    return 0 if min(rates) >= args.min_rate else 1


def write(path: Path, data: bytes, what: str) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise UserError(f"cannot write {what} {path}: {exc.strerror}") from None
