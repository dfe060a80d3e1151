"""The pharmacist reads French: every warning message, action label and reason the bridge produces for the
counter page is French (the machine-readable codes, e.g. `already_dispensed`, stay as they are)."""

from __future__ import annotations

import datetime as dt
import random
import re

from host_bridge.epu.client import STATE_WARNINGS
from host_bridge.errors import UserError
from host_bridge.payloads import build_lookup
from host_bridge.payloads.manual import manual_lookup
from host_bridge.payloads.profiles import default_profiles
from host_bridge.counter.session import CounterSession
from host_bridge.testbench.samples.content import KIND_WEIGHTS, make
from tests.payloads.test_hostile_codes import hostile

ENGLISH = re.compile(r"\b(the|is|are|must|not|this|should|was|expired|missing|payload|read as|does|digits?|"
                     r"wrong|characters|found|expected|number|date must|appears|twice)\b", re.I)
SOURCE = {"reader": "fr", "read_id": None, "engine": None, "time": "2026-11-23T10:00:00+00:00"}


def pharmacist_texts(lookup: dict) -> list[str]:
    return [lookup["action"]["label"], lookup["action"]["reason"]] + [w["message"] for w in lookup["warnings"]]


def payloads() -> list[bytes]:
    rng = random.Random(5)
    made = [make(kind, rng, dt.date(2025, 1, 1)).payload for kind in KIND_WEIGHTS for _ in range(8)]
    corpus = [c["payload"] for c in hostile.cases()]
    damaged = [p[: len(p) // 2] for p in made] + [p.replace(b"1", b"7", 2) for p in made] + [p + b"|x" for p in made]
    return made + corpus + damaged + [b"", b"https://example.org", b"WIFI:S:x;;", b"\xff\xfe", b"A" * 9000]


def test_every_warning_label_and_reason_on_generated_damaged_and_hostile_codes_is_french() -> None:
    session = CounterSession("fr")
    texts, codes = set(), set()
    for data in payloads():
        lookup = session.observe(build_lookup(data, source=SOURCE))
        texts |= set(pharmacist_texts(lookup))
        codes |= {w["code"] for w in lookup["warnings"]}
    texts |= {message for _, message in STATE_WARNINGS.values()}
    texts |= {spec.label for p in default_profiles().ordered for spec in p.fields}
    try:
        manual_lookup("K7P3 9QXA 2M4T B8RC", source=SOURCE)
    except UserError as exc:
        texts.add(str(exc))
    english = sorted(t for t in texts if ENGLISH.search(t.replace("not_", "")))
    assert english == []
    assert len(texts) > 60 and {"unrecognised", "invalid_field", "too_long", "not_utf8"} <= codes  # codes unchanged
