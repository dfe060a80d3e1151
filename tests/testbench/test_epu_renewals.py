"""Renewable prescriptions, partial dispensing per line, refusals and transmission, over the real sandbox.

What the counter must show: a due renewal is fine (with its number), one past the last is refused with the
reason, a refusal is remembered, and a prescription dispensed this morning but still "À transmettre" does
not look available."""

import pytest

import payload_examples as ex
from host_bridge.epu.client import EpuClient, EpuError
from host_bridge.payloads import build_lookup
from host_bridge.payloads.validators import iso7064_mod37_36_check
from host_bridge.testbench.epu_sandbox import SandboxServer

SOURCE = {"reader": "c1", "read_id": None, "engine": "zxing", "time": "2026-11-23T10:00:00+00:00"}


def number(body: str) -> str:
    return body + iso7064_mod37_36_check(body)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory):
    with SandboxServer(tmp_path_factory.mktemp("epu") / "epu.sqlite") as server:
        yield EpuClient(server.url)


def look(client: EpuClient, n: str) -> dict:
    return client.attach(build_lookup(ex.ordonnance(number=n), source=SOURCE))


def codes(lookup: dict) -> list[str]:
    return [w["code"] for w in lookup["warnings"]]


def test_each_due_renewal_is_ok_with_its_number_and_one_past_the_last_is_refused(client: EpuClient) -> None:
    n = number("RENEW3TIMES0001")
    client.register(n, {"renewals": 3, "lines": [{"text": "LEVOTHYROX 75 µg", "qty": 1}]})
    for renewal in range(4):  # the first dispensation, then renewals 1, 2 and 3 (the last)
        lookup = look(client, n)
        assert lookup["status"] == "ok", (renewal, lookup["warnings"])
        assert (lookup["epu"]["state"], lookup["epu"]["renewal"]) == ("available", renewal)
        assert (lookup["epu"]["dispensations_allowed"], lookup["epu"]["dispensations_done"]) == (4, renewal)
        client.dispense(n, "total")
    past = look(client, n)
    assert past["epu"]["state"] == "dispensed" and codes(past) == ["already_dispensed"]
    assert "4 délivrances permises (renouvelable 3 fois)" in past["warnings"][0]["message"]
    with pytest.raises(EpuError) as refused:
        client.dispense(n, "total")
    assert (refused.value.status, refused.value.code) == (409, "renewals_exhausted")


def test_partial_dispensing_counts_per_line_and_starts_again_at_each_renewal(client: EpuClient) -> None:
    n = number("RENEWPARTIAL001")
    client.register(n, {"renewals": 1, "lines": [{"text": "A", "qty": 2}, {"text": "B", "qty": 1}]})
    assert client.dispense(n, "partial", lines=[{"text": "A", "qty": 1}])["remaining"] == [
        {"text": "A", "qty": 1}, {"text": "B", "qty": 1}]
    after = client.dispense(n, "partial", lines=[{"text": "A", "qty": 1}, {"line": 1, "qty": 1}])  # every line done
    assert (after["state"], after["renewal"], after["dispensations_done"]) == ("available", 1, 1)
    assert after["remaining"] == [{"text": "A", "qty": 2}, {"text": "B", "qty": 1}]  # the renewal starts afresh
    assert client.dispense(n, "partial", lines=[{"text": "A", "qty": 2}])["remaining"] == [
        {"text": "A", "qty": 0}, {"text": "B", "qty": 1}]
    lookup = look(client, n)
    assert lookup["epu"]["state"] == "partially_dispensed" and lookup["epu"]["renewal"] == 1
    assert "renouvellement n° 1" in lookup["warnings"][0]["message"]
    assert client.dispense(n, "partial", lines=[{"text": "B", "qty": 1}])["state"] == "dispensed"


def test_a_dispensation_waiting_for_the_daily_transmission_does_not_look_available(client: EpuClient) -> None:
    n = number("TRANSMITLATER01")
    client.register(n, {})
    answer = client.dispense(n, "total", transmit="batch")
    assert answer["state"] == "available" and answer["pending"]["state"] == "dispensed"  # ePU: the QR stays active
    lookup = look(client, n)
    assert lookup["epu"]["state"] == "dispensed" and lookup["epu"]["transmission"] == "pending"
    assert codes(lookup) == ["already_dispensed"] and "À transmettre" in lookup["warnings"][0]["message"]
    assert client._call("POST", "/v1/transmissions", {})["transmitted"] == 1   # the 12:30 batch
    sent = look(client, n)
    assert sent["epu"]["state"] == "dispensed" and sent["epu"]["transmission"] == "transmitted"
    assert "À transmettre" not in sent["warnings"][0]["message"]


def test_a_refusal_needs_a_reason_and_is_shown_when_the_code_comes_back(client: EpuClient) -> None:
    n = number("REFUSEDEPRESC01")
    client.register(n, {})
    with pytest.raises(EpuError, match="reason"):
        client.dispense(n, "refused", reason="  ")
    assert client.dispense(n, "refused", reason="QR illisible, patient pressé")["state"] == "available"
    again = look(client, n)
    assert codes(again) == ["refused_eprescription"] and again["status"] == "warning"
    assert again["epu"]["refusal"]["reason"] == "QR illisible, patient pressé"
    assert "motif : QR illisible, patient pressé" in again["warnings"][0]["message"]


def test_the_daily_transmission_runs_at_12_30_paris_time() -> None:
    import datetime as dt

    from host_bridge.testbench.epu_store import next_batch

    utc = dt.timezone.utc
    assert next_batch(dt.datetime(2026, 12, 2, 9, 0, tzinfo=utc)).isoformat() == "2026-12-02T12:30:00+01:00"
    assert next_batch(dt.datetime(2026, 12, 2, 11, 31, tzinfo=utc)).isoformat() == "2026-12-03T12:30:00+01:00"
    assert next_batch(dt.datetime(2026, 7, 1, 10, 29, tzinfo=utc)).isoformat() == "2026-07-01T12:30:00+02:00"
