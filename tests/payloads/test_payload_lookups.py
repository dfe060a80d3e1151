"""Payloads to EpuLookups: kinds, fields, schema validity, idempotency, profiles from a directory, sessions."""

import json
from pathlib import Path

import jsonschema
import pytest

import payload_examples as ex
from conftest import REPO
from host_bridge.errors import UserError
from host_bridge.counter.session import CounterSession
from host_bridge.payloads import Profiles, build_lookup
from host_bridge.payloads.manual import manual_lookup, printed_form

SCHEMA = json.loads((REPO / "docs/schemas/epu-lookup.v1.json").read_text())
SOURCE = {"reader": "counter-1", "read_id": None, "engine": "zxing", "time": "2026-11-23T10:00:00+00:00"}


def lookup(data: bytes, session: CounterSession | None = None, **kw) -> dict:
    result = build_lookup(data, source=kw.pop("source", SOURCE), **kw)
    if session is not None:
        result = session.observe(result)
    jsonschema.validate(result, SCHEMA)
    return result


@pytest.mark.parametrize("data,kind,action", [
    (ex.ordonnance(), "ordonnance", "consult_prescription"), (ex.apcv(), "apcv", "identify_beneficiary"),
    (ex.amc(), "amc", "check_complementary_rights"), (ex.ins(), "ins", "identify_patient"),
    (ex.gs1(), "gs1", "not_for_this_reader"), (b"https://example.org/", "unknown", "not_for_this_reader"),
    (b"DC02FR000001FFFF1E5A01" + b"13DUPONT\x1d2475001\x1fABCDEFGH", "2ddoc", "not_for_this_reader")])
def test_every_kind_is_recognised_with_its_action(data: bytes, kind: str, action: str) -> None:
    result = lookup(data)
    assert (result["kind"], result["action"]["code"]) == (kind, action)
    assert result["status"] == ("invalid" if kind == "unknown" else "ok"), result["warnings"]


def test_fields_are_parsed_and_normalised() -> None:
    assert lookup(ex.ordonnance())["fields"]["prescription_number"] == ex.NUMBER
    ins = lookup(ex.ins())["fields"]
    assert ins["ins_number"] == "253072A07300443" and ins["patient_birth_date"] == "1980-02-29"
    assert ins["patient_given_names"] == "MARIE CLAIRE" and ins["patient_birthplace"] == "75056"
    gs1 = lookup(ex.gs1())["fields"]
    assert gs1 == {"gtin": "09506000134352", "expiry": "281231", "lot": "LOT42", "serial": "SN123"}
    assert lookup(b"]d2" + ex.gs1().replace(b"09506000134352", b"03400934567897"))["fields"]["cip13"] == "3400934567897"
    assert lookup(b"(01)09506000134352(17)281231(10)LOT42(21)SN123")["fields"]["lot"] == "LOT42"
    two = lookup(b"DC04FR0000011E5A1E5A01A1FR13DUPONT\x1d2475001\x1fSIG")["fields"]
    assert two["beneficiary_family_name"] == "DUPONT" and two["service_postcode"] == "75001" and two["country"] == "FR"


def test_raw_bytes_are_kept_exactly() -> None:
    import base64
    data = ex.ins()
    result = lookup(data)
    assert base64.b64decode(result["bytes_b64"]) == data and result["text"] == data.decode()


def test_bad_check_digits_make_the_lookup_invalid_with_the_field_named() -> None:
    result = lookup(ex.ordonnance(number=ex.NUMBER[:-1] + ("A" if ex.NUMBER[-1] != "A" else "B")))
    assert result["status"] == "invalid"
    assert [w["field"] for w in result["warnings"]] == ["prescription_number"]
    assert lookup(ex.ins(nir="253072A07300470"))["status"] == "invalid"


def test_expired_attestation_and_pack_are_warnings() -> None:
    amc = lookup(ex.amc(validity="20240101-20241231"))
    assert amc["status"] == "warning" and amc["warnings"][0]["code"] == "not_valid_today"
    assert lookup(ex.gs1(expiry="240101"))["warnings"][0]["code"] == "expired"


def test_id_is_a_function_of_reader_read_id_and_bytes() -> None:
    a = lookup(ex.amc(), source={**SOURCE, "read_id": "r1"})
    later = lookup(ex.amc(), source={**SOURCE, "read_id": "r1", "time": "2026-11-23T11:00:00+00:00", "engine": "zbar"})
    assert a["id"] == later["id"]
    assert a["id"] != lookup(ex.amc(), source={**SOURCE, "read_id": "r2"})["id"]
    assert a["id"] != lookup(ex.amc(), source={**SOURCE, "read_id": "r1", "reader": "counter-2"})["id"]
    no_id = lookup(ex.amc())
    assert no_id["id"] == lookup(ex.amc())["id"] != lookup(ex.amc(), source={**SOURCE, "time": "2026-11-23T10:00:01+00:00"})["id"]


def test_gs_substitute_typed_by_a_keyboard_wedge_is_accepted_back() -> None:
    typed = ex.ins().replace(b"\x1d", b"{GS}")
    result = lookup(typed, gs_substitute="{GS}")
    assert result["kind"] == "ins" and result["status"] == "ok" and result["text"] == typed.decode()


def test_profile_directory_replaces_and_adds_without_code(tmp_path: Path) -> None:
    builtin = (REPO / "host_bridge/profiles/amc.toml").read_text()
    (tmp_path / "amc.toml").write_text(builtin.replace('prefix = ["AMC1|"]', 'prefix = ["AMC2;"]')
                                       .replace('separator = "|"', 'separator = ";"').replace('version = "reference-1"', 'version = "official-2"'))
    profiles = Profiles(tmp_path)
    result = lookup(b"AMC2;12345678;SP;A1;M00042;20260101-20271231", profiles=profiles)
    assert result["kind"] == "amc" and result["profile"]["version"] == "official-2" and result["status"] == "ok"
    assert result["profile"]["origin"] == str(tmp_path / "amc.toml")
    assert lookup(ex.amc(), profiles=profiles)["kind"] == "unknown"   # replaced, not added


def test_profile_directory_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "x.toml").write_text((REPO / "host_bridge/profiles/apcv.toml").read_text().replace("APCV1.", "APCV9."))
    monkeypatch.setenv("ELECTEUR_PROFILES_DIR", str(tmp_path))
    assert lookup(ex.apcv().replace(b"APCV1.", b"APCV9."))["kind"] == "apcv"


@pytest.mark.parametrize("text,why", [("format = 1\nkind = 'nope'\ntitle = 't'\nversion = '1'\naction = {}", "kind"), ("not toml [", "TOML"),
                                      ("format = 2", "format")])
def test_broken_profile_file_is_a_clear_user_error(tmp_path: Path, text: str, why: str) -> None:
    (tmp_path / "bad.toml").write_text(text)
    with pytest.raises(UserError, match=why):
        Profiles(tmp_path)


def test_manual_code_tolerates_spaces_dashes_case_and_checks() -> None:
    typed = printed_form(ex.NUMBER).lower().replace(" ", " - ", 1)
    result = manual_lookup(typed, source=SOURCE)
    jsonschema.validate(result, SCHEMA)
    scanned = lookup(ex.ordonnance())
    assert (result["kind"], result["action"], result["fields"]["prescription_number"]) == \
        (scanned["kind"], scanned["action"], scanned["fields"]["prescription_number"])
    with pytest.raises(UserError, match="caractère de contrôle"):
        manual_lookup(ex.NUMBER[:5] + ex.NUMBER[6] + ex.NUMBER[5] + ex.NUMBER[7:], source=SOURCE)


def at(second: int) -> dict:
    return {**SOURCE, "time": f"2026-11-23T10:00:{second:02d}+00:00"}


def codes(result: dict) -> list[str]:
    return [w["code"] for w in result["warnings"]]


def test_session_patient_is_the_apcv_beneficiary_accents_and_case_folded() -> None:
    s = CounterSession("counter-1")
    lookup(ex.apcv(family="Dupont", given="Marie-Hélène"), source=at(0), session=s)
    same = lookup(ex.ordonnance(family="DUPONT", given="MARIE HELENE"), source=at(5), session=s)
    assert "patient_mismatch" not in codes(same) and same["session"]["index"] == 2
    other = CounterSession("counter-2")
    lookup(ex.apcv(family="Durand", birth="1981-03-01"), source=at(0), session=other)
    mismatch = lookup(ex.ordonnance(), source=at(5), session=other)
    assert "patient_mismatch" in codes(mismatch) and mismatch["status"] == "warning"
    assert "nom" in mismatch["warnings"][0]["message"] and "Durand" not in mismatch["warnings"][0]["message"]


def test_session_same_prescription_twice_and_ins_where_prescription_expected() -> None:
    s = CounterSession("counter-1")
    assert "not_a_prescription" in codes(lookup(ex.ins(), source=at(0), session=s))
    first = lookup(ex.ordonnance(), source=at(1), session=s)
    assert codes(first) == []
    assert "prescription_read_twice" in codes(lookup(ex.ordonnance(), source=at(9), session=s))
    assert "not_a_prescription" not in codes(lookup(ex.gs1(), source=at(10), session=s))  # after the prescription: a pack


def test_session_retransmission_is_idempotent_and_a_gap_starts_a_new_session() -> None:
    s = CounterSession("counter-1", gap_s=60)
    src = {**at(0), "read_id": "42"}
    first = lookup(ex.ordonnance(), source=src, session=s)
    again = lookup(ex.ordonnance(), source=src, session=s)
    assert again == first and "prescription_read_twice" not in codes(again)
    later = lookup(ex.ordonnance(), source={**SOURCE, "time": "2026-11-23T10:05:00+00:00"}, session=s)
    assert later["session"]["id"] != first["session"]["id"] and codes(later) == []
