"""Counter sessions follow the patient in front of the pharmacist: a new patient's card opens a new session
(no false `patient_mismatch`), the pharmacist can open one, and a real mismatch is still reported."""

from __future__ import annotations

import datetime as dt

import payload_examples as ex
from host_bridge.counter.session import CounterSession
from host_bridge.payloads import build_lookup

PATIENTS = [("Dupont", "Marie", "1980-02-29"), ("Martin", "Zoé", "1975-06-01"), ("Müller", "Noël", "1990-12-24"),
            ("Bernard", "Maëlle", "2001-01-15"), ("Petit", "Louis", "1968-09-30")]


def read(data: bytes, second: int, session: CounterSession) -> dict:
    t = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=second)
    return session.observe(build_lookup(data, source={"reader": "reader-1", "read_id": str(second),
                                                      "time": t.isoformat()}))


def codes(lookup: dict) -> list[str]:
    return [w["code"] for w in lookup["warnings"]]


def test_patients_one_after_another_within_the_window_are_separate_sessions_without_mismatch() -> None:
    s = CounterSession("reader-1")  # 180 s window: every read below is 10 s after the previous one
    reads, second = [], 0
    for round_ in range(2):
        for family, given, birth in PATIENTS:   # card first, then the prescription, then the mutuelle (15 patients)
            for data in (ex.apcv(family, given, birth), ex.ordonnance(family=family.upper(), given=given, birth=birth),
                         ex.amc()):
                reads.append(read(data, second, s))
                second += 10
    for prescription_first in PATIENTS:         # the other order: prescription, then the card
        family, given, birth = prescription_first
        for data in (ex.ordonnance(family=family.upper(), given=given, birth=birth), ex.apcv(family, given, birth)):
            reads.append(read(data, second, s))
            second += 10
    assert sum("patient_mismatch" in codes(r) for r in reads) == 0
    sessions = [r["session"]["id"] for r in reads]
    assert len(set(sessions)) == 15   # one per patient visit
    opened = [r["session"].get("opened_by") for r in reads if r["session"]["index"] == 1]
    assert opened == ["first_read"] + ["identity_change"] * 14


def test_a_prescription_for_someone_else_than_the_card_is_still_a_mismatch() -> None:
    s = CounterSession("reader-1")
    read(ex.apcv("Dupont", "Marie", "1980-02-29"), 0, s)
    other = read(ex.ordonnance(family="DURAND", given="Paul", birth="1950-01-01"), 10, s)
    assert "patient_mismatch" in codes(other) and other["session"]["index"] == 2


def test_the_pharmacist_opens_a_new_session() -> None:
    s = CounterSession("reader-1")
    first = read(ex.ordonnance(), 0, s)
    s.new_patient()
    again = read(ex.ordonnance(), 10, s)   # same prescription: not "read twice" for the next patient
    assert again["session"]["id"] != first["session"]["id"] and again["session"]["opened_by"] == "pharmacist"
    assert "prescription_read_twice" not in codes(again)
