"""`electeur bench peers`: our identifier and GS1 checks against well-kept peer libraries, on generated inputs.

Each row feeds the same generated inputs (valid ones and damaged ones) to our validator and to a peer
(python-stdnum, biip) and counts the verdicts that differ. A difference is either one of the rules
documented in docs/payloads.md (counted as explained, with the rule) or unexplained: the command
exits 1 when anything is unexplained.
"""

from __future__ import annotations

import argparse
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from biip import ParseConfig, ParseError
from biip.gs1_messages import GS1Message
from biip.gtin import Gtin
from stdnum import ean, luhn
from stdnum.fr import nir as stdnum_nir, siren as stdnum_siren, siret as stdnum_siret

from host_bridge.argtypes import positive_int
from host_bridge.payloads import gs1
from host_bridge.payloads.validators import NIR_FIRST_DIGITS, finess, gtin, nir, nir_month_ok, rpps, siret

NAME = "peers"
HELP = "cross-check the NIR, Luhn/RPPS, FINESS/SIREN, SIRET, GTIN and GS1 checks against python-stdnum and biip"
DIGITS = "0123456789"
CSET82 = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"


@dataclass
class Row:
    """One check: inputs tried, and the disagreements, explained ones by rule."""

    check: str
    peer: str
    inputs: int = 0
    explained: Counter[str] = field(default_factory=Counter)
    unexplained: list[str] = field(default_factory=list)

    @property
    def disagreements(self) -> int:
        return sum(self.explained.values()) + len(self.unexplained)


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(DIGITS) for _ in range(n))


def _keyed(rng: random.Random, body: str, key: Callable[[str], str], valid: float = 0.6) -> str:
    """`body` with its right check (most of the time) or a random one."""
    return body + (key(body) if rng.random() < valid else _digits(rng, len(key(body))))


def _compare(row: Row, inputs: list[str], ours: Callable[[str], bool], peer: Callable[[str], bool],
             why: Callable[[str], str | None] = lambda _: None) -> Row:
    for value in inputs:
        row.inputs += 1
        if ours(value) != peer(value):
            rule = why(value)
            if rule:
                row.explained[rule] += 1
            else:
                row.unexplained.append(value)
    return row


def _nir_inputs(rng: random.Random, count: int) -> list[str]:
    out = []
    for _ in range(count):
        dept = rng.choice(["2A", "2B", _digits(rng, 2), _digits(rng, 2)])
        body = rng.choice(DIGITS) + _digits(rng, 2) + f"{rng.randrange(100):02d}" + dept + _digits(rng, 6)
        out.append(_keyed(rng, body, stdnum_nir.calc_check_digits))
    return out


def _nir_rule(value: str) -> str | None:
    if value[0] not in NIR_FIRST_DIGITS:
        return "NIR first digit 0, 5, 6 or 9 (stdnum checks only the key)"
    if not nir_month_ok(int(value[3:5])):
        return "NIR month 00, 13-19 or 43-49 (stdnum checks only the key)"
    return None


def _gtin_inputs(rng: random.Random, count: int) -> list[str]:
    return [_keyed(rng, _digits(rng, rng.choice([7, 11, 12, 13, 13, 13])), ean.calc_check_digit) for _ in range(count)]


def _biip_gtin(value: str) -> bool:
    try:
        Gtin.parse(value)
    except ParseError:
        return False
    return True


def _gs1_inputs(rng: random.Random, count: int) -> list[str]:
    out = []
    for _ in range(count):
        elements = [("01", _keyed(rng, "0" + _digits(rng, 12), ean.calc_check_digit, 0.9))]
        year, month, day = rng.randrange(100), rng.randrange(1, 13), rng.choice([0, rng.randrange(1, 29), 29, 30, 31])
        elements.append(("17", f"{year:02d}{month:02d}{day:02d}"))
        for ai in rng.sample(["10", "21", "711", "240", "91", "7003"], rng.randint(1, 4)):
            if ai == "7003":
                value = f"{year:02d}{month:02d}{rng.randrange(1, 29):02d}{rng.randrange(24):02d}{rng.randrange(60):02d}"
            else:
                value = "".join(rng.choice(CSET82) for _ in range(rng.randint(1, 20)))
                if rng.random() < 0.05:
                    value = value[:3] + rng.choice(" é\t") + value[3:]   # outside the GS1 character set
                if rng.random() < 0.03:  # a GS missing after a full field: the next element runs into it
                    value = value.ljust(20, "X") + f"17{year:02d}{month:02d}01"
            elements.append((ai, value))
        if rng.random() < 0.03:
            elements.append(("10", "DUP"))                                  # the same AI a second time
        text = "".join(ai + value + ("" if ai in ("01", "17") else gs1.GS) for ai, value in elements).rstrip(gs1.GS)
        out.append(rng.choice(["", "]d2", gs1.GS]) + text)
    return out


def _ours_gs1(text: str) -> dict[str, str] | str:
    try:
        return gs1.parse(text)
    except gs1.ElementStringError as exc:
        return str(exc)


def _biip_gs1(text: str) -> dict[str, str] | str:
    try:
        message = GS1Message.parse(gs1.strip_prefix(text), config=ParseConfig(separator_chars=[gs1.GS]))
    except ParseError as exc:
        return str(exc)
    out: dict[str, str] = {}
    for element in message.element_strings:
        out.setdefault(element.ai.ai, element.value)
    return out


def _gs1_row(inputs: list[str]) -> Row:
    row = Row("GS1 element strings (gs1.parse)", "biip GS1Message.parse")
    for text in inputs:
        row.inputs += 1
        ours, peer = _ours_gs1(text), _biip_gs1(text)
        if isinstance(ours, dict) and isinstance(peer, dict) and ours == peer or isinstance(ours, str) and isinstance(peer, str):
            continue
        if isinstance(ours, str) and "au plus" in ours:
            row.explained["variable field over its maximum with no GS: refused (biip cuts it and reads on)"] += 1
        elif isinstance(ours, str) and "deux fois" in ours:
            row.explained["same AI twice with different values: refused (biip keeps both)"] += 1
        elif isinstance(ours, str) and "jeu de caractères" in ours and text != text.rstrip():
            row.explained["whitespace at the end: refused, outside the GS1 set (biip strips it first)"] += 1
        elif isinstance(peer, str) and "date" in peer and isinstance(ours, dict):
            row.explained["impossible date (31 April...): split, then a field warning (biip refuses the code)"] += 1
        else:
            row.unexplained.append(text)
    return row


def crosscheck(count: int, seed: int) -> list[Row]:
    """Every row, `count` generated inputs each."""
    rng = random.Random(seed)
    nine = [_keyed(rng, _digits(rng, 8), lambda b: str(luhn.calc_check_digit(b))) for _ in range(count)]
    eleven = [_keyed(rng, _digits(rng, 10), lambda b: str(luhn.calc_check_digit(b))) for _ in range(count)]
    fourteen = [_keyed(rng, rng.choice(["356000000", _digits(rng, 9)]) + _digits(rng, 4),
                       lambda b: str(luhn.calc_check_digit(b))) for _ in range(count)]
    return [
        _compare(Row("NIR / INS (validators.nir)", "stdnum.fr.nir"), _nir_inputs(rng, count),
                 lambda v: nir(v) is None, stdnum_nir.is_valid, _nir_rule),
        _compare(Row("RPPS, 11-digit Luhn (validators.rpps)", "stdnum.luhn"), eleven,
                 lambda v: rpps(v) is None, luhn.is_valid),
        _compare(Row("FINESS / AM, 9-digit Luhn (validators.finess)", "stdnum.fr.siren"), nine,
                 lambda v: finess(v) is None, stdnum_siren.is_valid),
        _compare(Row("SIRET (validators.siret)", "stdnum.fr.siret"), fourteen,
                 lambda v: siret(v) is None, stdnum_siret.is_valid),
        _compare(Row("GTIN-8/12/13/14 (validators.gtin)", "biip Gtin.parse"), _gtin_inputs(rng, count),
                 lambda v: gtin(v) is None, _biip_gtin),
        _gs1_row(_gs1_inputs(rng, count)),
    ]


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--count", type=positive_int, default=10_000, help="generated inputs per check (default 10,000)")
    parser.add_argument("--seed", type=int, default=1)


def run(args: argparse.Namespace) -> int:
    rows = crosscheck(args.count, args.seed)
    print(f"{'check':<46} {'peer':<24} {'inputs':>7} {'differ':>7} {'unexplained':>12}")
    for row in rows:
        print(f"{row.check:<46} {row.peer:<24} {row.inputs:>7,} {row.disagreements:>7,} {len(row.unexplained):>12,}")
        for rule, n in row.explained.most_common():
            print(f"    {n:>6,} explained: {rule}")
        for value in row.unexplained[:5]:
            print(f"    unexplained: {value!r}")
    return 1 if any(row.unexplained for row in rows) else 0
