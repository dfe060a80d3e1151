"""Identity check in a counter session: the prescription's patient, the INS and the apCV beneficiary must
name one person (names, birth date, sex), whatever the accents, case, hyphens or order of first names."""

from __future__ import annotations

import base64
import json

import payload_examples as ex
from host_bridge.counter.session import CounterSession
from host_bridge.payloads import build_lookup

GS = "\x1d"


def at(second: int) -> dict:
    return {"reader": "c1", "read_id": str(second), "engine": "zxing", "time": f"2026-11-23T10:00:{second:02d}+00:00"}


def ins(given: str = "MARIE CLAIRE", family: str = "DUPONT", sex: str = "F", birth: str = "29-02-1980") -> bytes:
    return (f"{ex.INS_HEADER}S1253072A07300443S21.2.250.1.213.1.4.8{GS}S3{given}{GS}S4{family}{GS}"
            f"S5{sex}S6{birth}S775056").encode()


def apcv(**claims: str) -> bytes:
    body = base64.urlsafe_b64encode(json.dumps({"v": 1, **claims}).encode()).rstrip(b"=")
    return b"APCV1." + body + b".c2lnbmF0dXJl"


def visit(*payloads: bytes) -> list[dict]:
    session = CounterSession("c1")
    return [session.observe(build_lookup(p, source=at(i))) for i, p in enumerate(payloads)]


def mismatches(lookup: dict) -> list[str]:
    return [w["message"] for w in lookup["warnings"] if w["code"] == "patient_mismatch"]


def test_prescription_and_ins_of_the_same_person_agree_despite_accents_hyphens_and_order() -> None:
    _, same = visit(ex.ordonnance(family="Dupont", given="Claire-Marie", birth="1980-02-29"), ins())
    assert mismatches(same) == [] and same["status"] == "ok", same["warnings"]
    _, accents = visit(ex.ordonnance(family="Lefèvre", given="Éloïse", birth="1980-02-29"),
                       ins(given="ELOISE ANNE", family="LEFEVRE"))
    assert mismatches(accents) == []


def test_prescription_for_another_person_than_the_ins_is_a_clear_french_warning() -> None:
    _, other = visit(ex.ordonnance(birth="1981-03-01"), ins())
    [message] = mismatches(other)
    assert message.startswith("Identité différente entre le patient de l'ordonnance numérique et l'identité INS du patient")
    assert ": date de naissance ne correspond pas." in message and "1981" not in message and "DUPONT" not in message
    assert other["status"] == "warning"


def test_a_family_name_differing_from_the_ins_birth_name_says_why_it_may() -> None:
    _, married = visit(ex.ordonnance(family="MARTIN"), ins())
    [message] = mismatches(married)
    assert ": nom ne correspond pas." in message and "nom de naissance" in message


def test_apcv_and_ins_are_compared_on_sex_and_each_pair_once() -> None:
    looks = visit(apcv(nom="DUPONT", prenom="Marie", dn="1980-02-29", sexe="M"), ex.ordonnance(), ins())
    assert mismatches(looks[1]) == []                                    # prescription vs apCV: same person
    [message] = mismatches(looks[2])                                      # INS vs apCV: sex differs
    assert ": sexe ne correspond pas." in message and "bénéficiaire de l'apCV" in message
