"""`electeur demo`: the main job on embedded defaults. For now: decode the bundled sample images."""

from __future__ import annotations

import argparse
from importlib import resources
from pathlib import Path

from host_bridge.commands.decode import printable
from host_bridge.decode.engines import get_engine
from host_bridge.decode.files import decode_file, iter_images


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the demo on bundled sample images (no hardware needed)",
                       description="Decode the sample codes bundled with the package (QR, inverted QR, Data Matrix) and print what was read.")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    engine = get_engine()
    with resources.as_file(resources.files("host_bridge") / "data") as data:
        rows = [decode_file(path, engine) for path in iter_images([data])]
    read = 0
    for row in rows:
        name = Path(row["file"]).name
        for s in row.get("symbols", []):
            read += 1
            print(f"{name:<24} {s['format']:<10} {row['ms']:6.2f} ms  {printable(s['text'])}")
        if not row.get("symbols"):
            print(f"{name:<24} {row.get('error', 'no code read')}")
    print(f"demo: {read} code(s) read from {len(rows)} bundled image(s) with the {engine.name} engine")
    return 0 if read == len(rows) else 1
