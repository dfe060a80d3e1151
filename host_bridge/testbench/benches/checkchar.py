"""`electeur bench checkchar`: how often the prescription number's check character catches an error.

The number printed under the QR is 15 characters 0-9A-Z and an ISO/IEC 7064 MOD 37,36 check character.
This counts, over random valid numbers, every error of each kind and how many of the damaged numbers the
validator still accepts: the figures docs/payloads.md quotes instead of a blanket "catches every swap".
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Callable, Iterator

from host_bridge.argtypes import positive_int
from host_bridge.payloads.validators import ALNUM36, iso7064_mod37_36_check, prescription_number

NAME = "checkchar"
HELP = "detection rates of the prescription number's MOD 37,36 check character, per kind of error"


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--count", type=positive_int, default=400, help="random valid numbers (default 400)")
    parser.add_argument("--seed", type=int, default=1)


def _substitutions(code: str) -> Iterator[str]:
    for i, old in enumerate(code):
        yield from (code[:i] + ch + code[i + 1:] for ch in ALNUM36 if ch != old)


def _adjacent_swaps(code: str) -> Iterator[str]:
    yield from (code[:i] + code[i + 1] + code[i] + code[i + 2:] for i in range(len(code) - 1) if code[i] != code[i + 1])


def _jump_swaps(code: str) -> Iterator[str]:
    yield from (code[:i] + code[i + 2] + code[i + 1] + code[i] + code[i + 3:]
                for i in range(len(code) - 2) if code[i] != code[i + 2])


def _twins(code: str) -> Iterator[str]:
    """aa -> bb: the pair is made a twin first (the body keeps a valid check character), then both change."""
    for i in range(len(code) - 2):  # pairs inside the body, so the twin can be built and re-keyed
        body = code[:i] + code[i] + code[i] + code[i + 2:15]
        twin = body + iso7064_mod37_36_check(body)
        yield from (twin[:i] + ch + ch + twin[i + 2:] for ch in ALNUM36 if ch != twin[i])


ERRORS: dict[str, Callable[[str], Iterator[str]]] = {
    "single substitution (a → b)": _substitutions,
    "adjacent transposition (ab → ba)": _adjacent_swaps,
    "jump transposition (abc → cba)": _jump_swaps,
    "twin error (aa → bb)": _twins,
}


def rates(count: int, seed: int) -> dict[str, tuple[int, int]]:
    """{kind of error: (damaged numbers tried, damaged numbers the validator accepted)}."""
    rng = random.Random(seed)
    out = {}
    codes = []
    for _ in range(count):
        body = "".join(rng.choice(ALNUM36) for _ in range(15))
        codes.append(body + iso7064_mod37_36_check(body))
    for kind, damage in ERRORS.items():
        tried = passed = 0
        for code in codes:
            for bad in damage(code):
                tried += 1
                passed += prescription_number(bad) is None
        out[kind] = (tried, passed)
    return out


def run(args: argparse.Namespace) -> int:
    print(f"{args.count} random valid numbers (seed {args.seed}), every error of each kind at every position:")
    print(f"{'error':<34} {'tried':>9} {'undetected':>11} {'detected':>9}")
    for kind, (tried, passed) in rates(args.count, args.seed).items():
        print(f"{kind:<34} {tried:>9,} {passed:>11,} {100 * (tried - passed) / tried:>8.2f}%")
    return 0
