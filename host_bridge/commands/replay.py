"""`electeur replay`: the test-harness mode, through the whole pipeline (decode → classify → lookup → ePU).

Exit 1 when fewer expected texts were read than --min-rate, or, in a directory with a samples
manifest.json, fewer images were read and classified right than --min-rate.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from host_bridge import replay
from host_bridge.commands.decode import add_engine_option, engine_from
from host_bridge.decode.files import decode_file
from host_bridge.epu.client import EpuClient, default_base_url
from host_bridge.errors import UserError
from host_bridge.link.virtual_reader import FRAME_FORMATS, RUNTIMES
from host_bridge.payloads.accuracy import format_report, score_rows
from host_bridge.payloads.pipeline import LookupPipeline


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("replay", help="replay image directories through decode → lookup (→ ePU) and check them",
                       description="Decode every image under DIR and turn each code into an EpuLookup; where N.txt is beside "
                                   "N.png/N.jpg, compare byte for byte; where DIR has a samples manifest.json, score kinds and "
                                   "fields per kind. Exit 1 when a rate is below --min-rate.")
    add_engine_option(p)
    p.add_argument("dirs", nargs="+", metavar="DIR")
    p.add_argument("--json", action="store_true", help="one JSON object per image per line (format v1, docs/cli.md)")
    p.add_argument("--report", type=Path, metavar="FILE", help="write a JSON summary to FILE")
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


def print_table(summary: dict) -> None:
    print(f"{'directory':<50} {'images':>6} {'expected':>8} {'read':>5} {'missed':>6} {'wrong':>5} {'errors':>6} {'median ms':>9}")
    for name, d in summary["dirs"].items():
        ms = "-" if d["median_ms"] is None else f"{d['median_ms']:.2f}"
        print(f"{name:<50} {d['images']:>6} {d['expected']:>8} {d['read']:>5} {d['missed']:>6} {d['wrong']:>5} {d['errors']:>6} {ms:>9}")
    print(f"read {summary['read']}/{summary['expected']} expected texts (rate {summary['rate']:.3f}) with engine {summary['engine']}")


def run(args: argparse.Namespace) -> int:
    if not 0.0 <= args.min_rate <= 1.0:
        raise UserError("--min-rate must be between 0 and 1")
    if args.frame_format != "gray8" and not args.via_reader:
        raise UserError("--frame-format needs --via-reader")
    for d in args.dirs:
        if not Path(d).is_dir():
            raise UserError(f"{d}: not a directory")
    engine = engine_from(args)
    epu = EpuClient(args.epu or default_base_url()) if args.epu is not None else None
    pipeline = LookupPipeline(epu=epu, sessions=args.session)
    decode = lambda image: decode_file(image, engine)  # noqa: E731
    if args.via_reader:
        from host_bridge.decode.files import iter_images
        from host_bridge.link.via_reader import reader_rows
        via = reader_rows(list(iter_images(args.dirs)), args.via_reader, engine, frame_format=args.frame_format)
        decode = via.__getitem__
    rows = []
    for row in replay.replay(args.dirs, lambda image: pipeline.add_to_row(decode(image))):
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
        try:
            args.report.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        except OSError as exc:
            raise UserError(f"cannot write report {args.report}: {exc.strerror}") from None
    rates = [summary["rate"]] + [r["rate"] for r in manifests.values()]
    return 0 if min(rates) >= args.min_rate else 1
