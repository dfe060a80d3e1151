"""Reed-Solomon and BCH of the on-board QR decoder: every error pattern within capacity is corrected,
patterns beyond it are refused, never turned into a different payload."""

from __future__ import annotations

import random

import pytest

from firmware.qr import codewords, rs
from firmware.qr.tables import ec_blocks


def rs_encode(data: bytes, nsym: int) -> bytearray:
    """Systematic QR Reed-Solomon encoding (generator roots alpha^0..alpha^(nsym-1))."""
    gen = [1]
    for i in range(nsym):
        nxt = [0] * (len(gen) + 1)
        for j, g in enumerate(gen):
            nxt[j] ^= g
            nxt[j + 1] ^= rs.mul(g, rs.EXP[i])
        gen = nxt
    rem = list(data) + [0] * nsym
    for i in range(len(data)):
        coef = rem[i]
        if coef:
            for j in range(1, len(gen)):
                rem[i + j] ^= rs.mul(gen[j], coef)
    return bytearray(data) + bytearray(rem[len(data):])


def corrupt(block: bytearray, count: int, rnd: random.Random) -> bytearray:
    bad = bytearray(block)
    for pos in rnd.sample(range(len(block)), count):
        bad[pos] ^= rnd.randrange(1, 256)
    return bad


VERSIONS = (1, 2, 3, 5, 7, 10, 15, 20, 27, 40)


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("level", range(4), ids="LMQH")
def test_rs_corrects_up_to_capacity_and_refuses_beyond(version: int, level: int) -> None:
    rnd = random.Random(version * 4 + level)
    ecw, _, nd1, nb2 = ec_blocks(version, level)
    for nd in (nd1, nd1 + 1) if nb2 else (nd1,):
        cap = codewords.max_errors(version, level, ecw)
        data = bytes(rnd.randrange(256) for _ in range(nd))
        block = rs_encode(data, ecw)
        assert rs.correct(bytearray(block), ecw, cap) == 0
        for errors in range(1, cap + 1):
            for _ in range(3):
                bad = corrupt(block, errors, rnd)
                assert rs.correct(bad, ecw, cap) == errors
                assert bad == block
        for errors in (cap + 1, ecw // 2 + 1, ecw):
            for _ in range(3):
                bad = corrupt(block, errors, rnd)
                assert rs.correct(bad, ecw, cap) == -1, f"{errors} errors accepted"


@pytest.mark.parametrize("data", range(32))
def test_format_bch_corrects_three_bit_errors(data: int) -> None:
    rnd = random.Random(data)
    word = rs.bch_encode(data, 5, 0x537, 11) ^ 0x5412
    for errors in range(4):
        for _ in range(5):
            bad = word
            for bit in rnd.sample(range(15), errors):
                bad ^= 1 << bit
            assert rs.bch_nearest(bad, 5, 0x537, 11, 0x5412, 3) == data


@pytest.mark.parametrize("version", range(7, 41))
def test_version_bch_corrects_three_bit_errors(version: int) -> None:
    rnd = random.Random(version)
    word = rs.bch_encode(version, 6, 0x1F25, 13)
    assert word >> 12 == version
    for errors in range(4):
        bad = word
        for bit in rnd.sample(range(18), errors):
            bad ^= 1 << bit
        assert rs.bch_nearest(bad, 6, 0x1F25, 13, 0, 3) == version


def test_bch_beyond_capacity_is_refused_or_another_valid_word() -> None:
    """Four flipped bits are beyond the guarantee: the answer is -1 or a word within 3 bits, never garbage."""
    rnd = random.Random(7)
    for _ in range(200):
        data = rnd.randrange(32)
        bad = rs.bch_encode(data, 5, 0x537, 11) ^ 0x5412
        for bit in rnd.sample(range(15), 4):
            bad ^= 1 << bit
        got = rs.bch_nearest(bad, 5, 0x537, 11, 0x5412, 3)
        if got >= 0:
            assert bin((rs.bch_encode(got, 5, 0x537, 11) ^ 0x5412) ^ bad).count("1") <= 3
