"""Payload properties: validators, the 2D-Doc and GS1 parsers and `build_lookup` on arbitrary input.

Any input gives a verdict with a reason (a validator message, a parser error, a schema-valid lookup),
never an exception; well-formed inputs round-trip exactly."""

import base64
import datetime as dt
import json

import jsonschema
import pytest
from biip.gs1_application_identifiers import _GS1_APPLICATION_IDENTIFIERS
from hypothesis import given, settings, strategies as st

from conftest import REPO
from host_bridge.payloads import build_lookup, redacted
from host_bridge.payloads import gs1, twoddoc
from host_bridge.payloads.validators import VALIDATORS

FAST = settings(max_examples=200, deadline=None)
SCHEMA = json.loads((REPO / "docs/schemas/epu-lookup.v1.json").read_text())
SOURCE = {"reader": "prop", "read_id": "1", "engine": None, "time": "2026-11-23T10:00:00+00:00"}
ALNUM = st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=4, max_size=4)
HOSTILE_TEXT = st.text(alphabet=st.characters(codec=None), max_size=300) | st.text(
    alphabet="0123456789()|.\x1d\x1b\r\n\u202e]dDCIS-", max_size=300)


@FAST
@pytest.mark.parametrize("name", sorted(VALIDATORS))
@given(value=HOSTILE_TEXT)
def test_validators_answer_none_or_a_reason(name, value) -> None:
    verdict = VALIDATORS[name](value)
    assert verdict is None or (isinstance(verdict, str) and verdict)


@FAST
@given(data=st.binary(max_size=600) | HOSTILE_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")),
       gs_sub=st.none() | st.sampled_from(["<GS>", "~", "", "|", "S"]))
def test_any_bytes_give_one_schema_valid_lookup_that_keeps_them(data, gs_sub) -> None:
    lookup = build_lookup(data, source=SOURCE, gs_substitute=gs_sub or None)
    jsonschema.validate(lookup, SCHEMA)
    assert base64.b64decode(lookup["bytes_b64"]) == data                          # the raw payload is never lost
    if lookup["status"] != "ok":
        assert lookup["action"]["reason"]                            # a refusal always says why
    json.dumps(redacted(lookup))


@FAST
@given(text=HOSTILE_TEXT)
def test_twoddoc_header_raises_only_header_errors(text) -> None:
    for candidate in (text, "DC" + text, "DC04" + text):
        try:
            fields, length = twoddoc.parse_header(candidate)
        except twoddoc.HeaderError as exc:
            assert str(exc)
        else:
            assert candidate.startswith("DC") and length <= len(candidate)


@FAST
@given(version=st.sampled_from(["01", "02", "03", "04"]), ca=ALNUM, cert=ALNUM,
       issue=st.integers(0, 0xFFFE), delta=st.integers(0, 400), doc=st.sampled_from(["01", "B2", "0A"]),
       tail=st.text(max_size=40))
def test_twoddoc_header_round_trips(version, ca, cert, issue, delta, doc, tail) -> None:
    sig = min(issue + delta, 0xFFFE)
    head = f"DC{version}{ca}{cert}{issue:04X}{sig:04X}{doc}" + {"03": "01", "04": "01FR"}.get(version, "")
    fields, length = twoddoc.parse_header(head + tail)
    assert length == len(head)
    assert (fields["ca_id"], fields["certificate_id"], fields["document_type"]) == (ca, cert, doc)
    assert fields["issue_date"] == (twoddoc.EPOCH + dt.timedelta(days=issue)).isoformat()


@FAST
@given(text=HOSTILE_TEXT)
def test_gs1_parse_raises_only_element_string_errors(text) -> None:
    for candidate in (text, "01" + text, "]d2" + text, "(01)" + text):
        try:
            out = gs1.parse(candidate)
        except gs1.ElementStringError as exc:
            assert str(exc)
        else:
            assert set(out) <= set(_GS1_APPLICATION_IDENTIFIERS)


VAR = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=1, max_size=20)


@FAST
@given(gtin=st.text(alphabet="0123456789", min_size=14, max_size=14),
       expiry=st.dates(dt.date(2000, 1, 1), dt.date(2099, 12, 31)).map(lambda d: f"{d:%y%m%d}"), lot=VAR, serial=st.none() | VAR,
       form=st.sampled_from(["raw", "]d2", "fnc1", "hri"]))
def test_gs1_element_strings_round_trip_in_every_form(gtin, expiry, lot, serial, form) -> None:
    want = {"01": gtin, "17": expiry, "10": lot} | ({"21": serial} if serial else {})
    if form == "hri":
        text = "".join(f"({ai}){v}" for ai, v in want.items())
    else:
        text = f"01{gtin}17{expiry}10{lot}" + (f"{gs1.GS}21{serial}" if serial else "")
        text = {"]d2": "]d2", "fnc1": gs1.GS}.get(form, "") + text
    assert gs1.parse(text) == want


@pytest.mark.parametrize("data", [b"01034005304534011730110\xb3101W3M2H\x1d211C0RMAU",
                                  b"010950600013435217\xb2\xb2123110LOT"])
def test_gs1_expiry_with_superscript_digits_is_a_warning_not_a_crash(data) -> None:
    lookup = build_lookup(data, source=SOURCE)
    assert lookup["status"] != "ok"
