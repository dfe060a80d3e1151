"""Any bytes at all give exactly one schema-valid lookup: property-based, around every profile's marker."""

import json

import jsonschema
from hypothesis import given, settings, strategies as st

import payload_examples as ex
from conftest import REPO
from host_bridge.counter.session import CounterSession
from host_bridge.payloads import build_lookup, redacted

SCHEMA = json.loads((REPO / "docs/schemas/epu-lookup.v1.json").read_text())
SOURCE = {"reader": "fuzz", "read_id": None, "engine": None, "time": "2026-11-23T10:00:00+00:00"}
MARKERS = [b"EP1|", b"APCV1.", b"AMC1|", b"IS01" + b"0" * 22, b"DC04", b"DC02FR000001FFFF1E5A01", b"01", b"]d201", b"(01)"]
VALID = [ex.ordonnance(), ex.apcv(), ex.amc(), ex.ins(), ex.gs1()]


@settings(max_examples=150, deadline=None)
@given(prefix=st.sampled_from(MARKERS + [b""]), tail=st.binary(max_size=300))
def test_any_bytes_after_any_marker_give_one_valid_lookup(prefix: bytes, tail: bytes) -> None:
    lookup = CounterSession("fuzz").observe(build_lookup(prefix + tail, source=SOURCE))
    jsonschema.validate(lookup, SCHEMA)
    json.dumps(lookup)


@settings(max_examples=150, deadline=None)
@given(base=st.sampled_from(VALID), cut=st.integers(0, 200), junk=st.binary(max_size=5))
def test_truncated_or_corrupted_real_payloads_never_pass_silently(base: bytes, cut: int, junk: bytes) -> None:
    data = base[:cut] + junk + base[cut + len(junk):]
    lookup = build_lookup(data, source=SOURCE)
    jsonschema.validate(lookup, SCHEMA)
    if data != base and lookup["status"] == "ok":
        assert lookup["fields"] != build_lookup(base, source=SOURCE)["fields"]  # the change shows in the fields


def test_redacted_copy_hides_identifiers() -> None:
    lookup = build_lookup(ex.ins(), source=SOURCE)
    text = json.dumps(redacted(lookup))
    for secret in ("253072A07300443", "DUPONT", "1980-02-29", lookup["bytes_b64"]):
        assert secret not in text
    assert "1.2.250.1.213.1.4.8" in text  # not sensitive: kept
