"""`electeur samples`: realistic images of every payload kind, with a manifest saying what each must read as."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path

from tqdm import tqdm

from host_bridge.argtypes import positive_int
from host_bridge.errors import UserError
from host_bridge.testbench.samples.generate import MANIFEST, generate, seed_epu


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("samples", help="generate realistic sample images and manifest.json",
                       description="Generate camera-like images of e-prescriptions, apCV phone screens, mutuelle cards, "
                                   "INS codes, GS1 packs, 2D-Docs and unrelated QR codes, plus DIR/manifest.json "
                                   "(file, kind, payload_b64, fields, scene...). Deterministic per seed.")
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="output directory (created if needed)")
    p.add_argument("--count", type=positive_int, default=200, help="number of images (default 200)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1): same seed, same images")
    p.add_argument("--damaged", action="store_true",
                   help="only e-prescriptions whose QR is destroyed (torn corner, ink smear, coffee stain, crumpled); "
                        "the number printed under it stays legible in 4 of 5 (docs/samples.md)")
    p.add_argument("--seed-epu", type=Path, metavar="DB",
                   help="also register the prescriptions in this ePU sandbox SQLite file, in the states the manifest says")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.out.exists() and not args.out.is_dir():
        raise UserError(f"{args.out} exists and is not a directory")
    if args.seed_epu:
        check_epu_db(args.seed_epu)   # before any image is written: a bad path must not leave half a run behind
    try:
        args.out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create --out {args.out}: {exc.strerror}") from None
    with tqdm(total=args.count, desc="samples", unit="img", file=sys.stderr, disable=None) as bar:
        manifest = generate(args.out, args.count, args.seed, progress=bar.update, damaged=args.damaged)
    kinds: dict[str, int] = {}
    for entry in manifest:
        kinds[entry["kind"]] = kinds.get(entry["kind"], 0) + 1
    print(f"{len(manifest)} images in {args.out} ({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))}); "
          f"manifest {args.out / MANIFEST}")
    if args.seed_epu:
        counts = seed_epu(args.seed_epu, manifest)
        print(f"ePU sandbox {args.seed_epu}: " + ", ".join(f"{k} {n}" for k, n in sorted(counts.items())))
    return 0


def check_epu_db(path: Path) -> None:
    """Open (or create) the ePU sandbox database now, so a wrong path or a file that is not one fails first."""
    from host_bridge.testbench.epu_store import EpuStore

    try:
        EpuStore(path).close()
    except sqlite3.DatabaseError as exc:
        raise UserError(f"--seed-epu {path}: not an ePU sandbox database ({exc})") from None
