"""The INS Data Matrix, 2D-Doc and GS1 formats as published (ANS v2.2, ANTS v3.1.3, GS1 via biip).

Each case is one a pharmacist or an LGO vendor meets: a field read into the wrong one, a valid pack
code refused, a legal character sequence taken for corruption."""

from __future__ import annotations

import pytest

from host_bridge.payloads import build_lookup

SOURCE = {"reader": "t", "read_id": "1", "engine": None, "time": "2026-11-23T10:00:00+00:00"}
GS, RS, US = "\x1d", "\x1e", "\x1f"
INS_HEAD = "IS01" + "0" * 22
SIG = "GJOZJCU2HBPFIQEJ2IHWPQOQTGURB6LCELPXCH3LVS574NM27UTYRHUIMZWEDFJQVVKIAGWIIF72IV6YFNZTUGYTBXSQO2LOOV6BEMY"


def lookup(text: str) -> dict:
    return build_lookup(text.encode("latin-1"), source=SOURCE)


def codes(result: dict) -> list[str]:
    return [w["code"] for w in result["warnings"]]


# --- INS Data Matrix (ANS "INS - Format datamatrix" v2.2) ---

def test_ins_test_oid_at_its_20_character_maximum_needs_no_gs() -> None:
    result = lookup(f"{INS_HEAD}S1253072A07300443S21.2.250.1.213.1.4.10S3MARIE{GS}S4DUPONT{GS}S5FS629-02-1980S775056")
    assert result["status"] == "ok", result["warnings"]
    assert result["fields"]["ins_oid"] == "1.2.250.1.213.1.4.10"
    assert result["fields"]["patient_given_names"] == "MARIE"     # the next field is intact


def test_ins_production_oid_with_its_gs_still_reads() -> None:
    result = lookup(f"{INS_HEAD}S1253072A07300443S21.2.250.1.213.1.4.8{GS}S3MARIE{GS}S4DUPONT{GS}S5FS629-02-1980S775056")
    assert result["status"] == "ok" and result["fields"]["ins_oid"] == "1.2.250.1.213.1.4.8"


def test_ins_oid_shorter_than_19_characters_is_invalid() -> None:
    result = lookup(f"{INS_HEAD}S1253072A07300443S21.2.250.1{GS}S3MARIE{GS}S4DUPONT{GS}S5FS629-02-1980S775056")
    assert result["status"] == "invalid" and "ins_oid" in [w.get("field") for w in result["warnings"]]


def test_ins_sex_outside_m_and_f_is_invalid() -> None:
    result = lookup(f"{INS_HEAD}S1253072A07300443S21.2.250.1.213.1.4.8{GS}S3MARIE{GS}S4DUPONT{GS}S5IS629-02-1980S775056")
    assert result["status"] == "invalid"
    assert any(w.get("field") == "patient_sex" and "M ou F" in w["message"] for w in result["warnings"])


# --- 2D-Doc (ANTS "Spécifications techniques des codes à barres 2D-Doc" v3.1.3) ---

def test_2ddoc_rs_ends_a_field_cut_short() -> None:
    result = lookup(f"DC04FR0AXT4A0E840E8A0101FR13DUPONTEL{RS}247500126FR{US}{SIG}")
    fields = result["fields"]
    assert fields["beneficiary_family_name"] == "DUPONTEL"          # not "DUPONTEL\x1e2475001..."
    assert fields["service_postcode"] == "75001" and fields["service_country"] == "FR"
    assert fields["truncated"] == "13"
    assert result["status"] == "ok", result["warnings"]


def test_2ddoc_public_test_vector_proof_of_address() -> None:
    """The spec's sample invoice, as open 2D-Doc parsers use it in their tests."""
    text = (f"DC04FR0AXT4A0E840E8A0101FR26FR247500010MME/NATACHA/SPECIMEN{GS}221 RUE DE LA RUE{GS}"
            f"1812345678910112{GS}02FACTURE FNB{GS}03GP{GS}1D9,99{GS}19575645792{GS}07195113{US}{SIG}")
    result = lookup(text)
    assert result["status"] == "ok", result["warnings"]
    f = result["fields"]
    assert (f["ca_id"], f["certificate_id"], f["issue_date"], f["signature_date"]) == ("FR0A", "XT4A", "2010-03-05", "2010-03-11")
    assert (f["document_type"], f["perimeter"], f["country"]) == ("01", "01", "FR")
    assert f["service_country"] == "FR" and f["service_postcode"] == "75000"      # 24-26: the service point
    assert f["beneficiary_address_1"] == "MME/NATACHA/SPECIMEN"
    assert (f["di_22"], f["di_18"], f["di_02"], f["di_03"], f["di_1D"], f["di_19"], f["di_07"]) == (
        "1 RUE DE LA RUE", "12345678910112", "FACTURE FNB", "GP", "9,99", "575645792", "195113")
    assert "unparsed" not in f and f["signature"] == SIG


def test_2ddoc_public_test_vector_virological_test_result() -> None:
    """The fictitious test certificate the TousAntiCovid apps use in their tests (document type B2, F0-F6)."""
    sig = "ZCQ5EDEXRCRYMU4U5U4YQSF5GOE2PMFFC6PDWOMZK64434TUCJWQLIXCRYMA5TWVT7TEZSF2S3ZCJSYK3JYFOBVUHNOEXQMEKWQDG3A"
    result = lookup(f"DC04DHI0TST11E3C1E3CB201FRF0JEAN LOUIS/EDOUARD{GS}F1DUPOND{GS}F225111980F3MF494309{GS}"
                    f"F5NF6110320211452{US}{sig}")
    assert result["status"] == "ok", result["warnings"]
    f = result["fields"]
    assert (f["ca_id"], f["certificate_id"], f["document_type"], f["issue_date"]) == ("DHI0", "TST1", "B2", "2021-03-11")
    assert [f[f"di_F{n}"] for n in range(7)] == ["JEAN LOUIS/EDOUARD", "DUPOND", "25111980", "M", "94309", "N", "110320211452"]


def test_2ddoc_identifiers_of_the_published_table_are_parsed_with_their_lengths() -> None:
    # 6G (name, 1-38), 69 (birth date, fixed 8), 68 (sex, fixed 1) of an identity document: no GS after fixed fields
    result = lookup(f"DC04FR0AXT4A0E840E8A0701FR6GMARTIN{GS}6919021980" + f"68F{US}{SIG}")
    assert result["status"] == "ok", result["warnings"]
    assert (result["fields"]["di_6G"], result["fields"]["di_69"], result["fields"]["di_68"]) == ("MARTIN", "19021980", "F")


def test_2ddoc_identifier_outside_the_table_is_kept_with_a_warning() -> None:
    result = lookup(f"DC04FR0AXT4A0E840E8A0101FR26FRZZSOMETHING{US}{SIG}")
    assert result["status"] == "warning" and result["fields"]["unparsed"] == "ZZSOMETHING"


# --- GS1 on French medicine packs (biip) ---

def test_gs1_national_reimbursement_number_and_other_ais_are_accepted() -> None:
    result = lookup(f"]d2010340093000123317281231102AB{GS}7113400930001233{GS}240REF-9{GS}9112{GS}21SN1")
    assert result["status"] == "ok", result["warnings"]
    f = result["fields"]
    assert (f["cip13"], f["nhrn_fr"], f["additional_id"], f["serial"]) == ("3400930001233", "3400930001233", "REF-9", "SN1")
    assert f["gs1_other"] == "(91)12"


def test_gs1_space_in_a_serial_is_outside_the_character_set() -> None:
    result = lookup(f"0103400930001233172812311012{GS}21SN 123")
    assert result["status"] == "invalid"
    assert "espace" in result["warnings"][0]["message"] and "(21)" in result["warnings"][0]["message"]
    assert "jeu de caractères GS1" in result["action"]["reason"]


@pytest.mark.parametrize("text,why", [("0103400930001233" + "10" + "L" * 21, "20 au plus"),
                                      (f"010340093000123310A{GS}10B", "deux fois"),
                                      ("01034009300012331728123123XY", "pas d'identifiant d'application connu")])
def test_gs1_broken_element_strings_say_why_in_french(text: str, why: str) -> None:
    result = lookup(text)
    assert result["status"] == "invalid" and why in result["warnings"][0]["message"]
