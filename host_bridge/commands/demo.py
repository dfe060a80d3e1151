"""`electeur demo`: the main job on embedded defaults: the bundled images, then the counter pipeline
(fresh samples → decode → lookups → ePU sandbox running) with a note of where to look."""

from __future__ import annotations

import argparse
from importlib import resources
from pathlib import Path

import platformdirs

from host_bridge.argtypes import positive_int
from host_bridge.commands.decode import printable
from host_bridge.testbench.counter_demo import run_counter_demo
from host_bridge.decode.engines import get_engine
from host_bridge.decode.files import decode_file, iter_images
from host_bridge.decode.image import load_gray
from host_bridge.errors import UserError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the demo: bundled images, then the counter pipeline with the ePU sandbox (no hardware needed)",
                       description="Decode the sample codes bundled with the package (QR, inverted QR, Data Matrix), then generate "
                                   "fresh counter samples, start the ePU sandbox, and run them through decode → lookup → ePU, "
                                   "with accuracy per kind and a double-dispensation refusal.")
    p.add_argument("--workdir", type=Path, default=Path(platformdirs.user_cache_dir("electeur")) / "demo",
                   help="where the samples, lookups and sandbox database go (default: the user cache directory)")
    p.add_argument("--count", type=positive_int, default=24, help="counter samples to generate (default 24)")
    p.add_argument("--seed", type=int, default=1, help="samples seed (default 1)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        args.workdir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create --workdir {args.workdir}: {exc.strerror}") from None
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
    print("\ncounter pipeline: samples → decode → lookup → ePU sandbox")
    run_counter_demo(args.workdir, lambda path: engine.decode(load_gray(path)), count=args.count, seed=args.seed)
    return 0 if read == len(rows) else 1
