"""The ePU sandbox over real HTTP and SQLite, and the client's lookups: double dispensation is refused; a due renewal
is fine (with its number) and one past the last refused; a refusal is remembered; a prescription dispensed this
morning but still « À transmettre » does not look available."""

import json
import urllib.request
from pathlib import Path

import pytest

import payload_examples as ex
from host_bridge.epu.client import EpuClient, EpuError
from host_bridge.testbench.epu_sandbox import SandboxServer
from host_bridge.payloads import build_lookup
from host_bridge.payloads.validators import iso7064_mod37_36_check

SOURCE = {"reader": "c1", "read_id": None, "engine": "zxing", "time": "2026-11-23T10:00:00+00:00"}


def number(body: str) -> str:
    return body + iso7064_mod37_36_check(body)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory):
    with SandboxServer(tmp_path_factory.mktemp("epu") / "epu.sqlite") as server:
        yield server


def test_second_total_dispensation_is_refused_and_the_represented_lookup_says_so(sandbox: SandboxServer) -> None:
    client = EpuClient(sandbox.url)
    client.register(ex.NUMBER, {"patient": {"family_name": "DUPONT"}})
    first = client.attach(build_lookup(ex.ordonnance(), source=SOURCE))
    assert first["epu"]["state"] == "available" and first["status"] == "ok"
    assert client.dispense(ex.NUMBER, "total")["state"] == "dispensed"
    with pytest.raises(EpuError) as refused:
        client.dispense(ex.NUMBER, "total")
    assert (refused.value.status, refused.value.code) == (409, "already_dispensed")
    again = client.attach(build_lookup(ex.ordonnance(), source=SOURCE))
    assert again["epu"]["state"] == "dispensed" and again["status"] == "warning"
    assert [w["code"] for w in again["warnings"]] == ["already_dispensed"]


def test_partial_then_total_refusal_needs_reason_cancel(sandbox: SandboxServer) -> None:
    client = EpuClient(sandbox.url)
    n = number("PARTIAL00000001")
    client.register(n, {})
    with pytest.raises(EpuError, match="reason"):
        client.dispense(n, "refused")
    assert client.dispense(n, "refused", reason="incohérence patient")["state"] == "available"
    assert client.dispense(n, "partial", lines=[{"cip13": "3400934567897", "qty": 1}])["state"] == "partially_dispensed"
    assert client.dispense(n, "total")["state"] == "dispensed"
    assert [d["type"] for d in client.consult(n)["dispensations"]] == ["refused", "partial", "total"]
    c = number("CANCELLED000001")
    client.register(c, {})
    client._call("POST", f"/v1/prescriptions/{c}/cancel")
    with pytest.raises(EpuError) as gone:
        client.dispense(c, "total")
    assert gone.value.status == 410


def test_unknown_number_token_and_bad_requests(sandbox: SandboxServer) -> None:
    unknown = EpuClient(sandbox.url).attach(build_lookup(ex.ordonnance(number=number("NOTREGISTERED00")), source=SOURCE))
    assert unknown["epu"]["state"] == "unknown" and "epu_unknown" in [w["code"] for w in unknown["warnings"]]
    with pytest.raises(EpuError) as denied:
        EpuClient(sandbox.url, token="wrong").consult(ex.NUMBER)
    assert denied.value.status == 401
    with pytest.raises(EpuError) as bad:
        EpuClient(sandbox.url).consult("NOT-A-NUMBER")
    assert bad.value.code == "bad_number"
    request = urllib.request.Request(sandbox.url + f"/v1/prescriptions/{ex.NUMBER}/dispensations", data=b"\xff{",
                                     method="POST", headers={"Authorization": "Bearer sandbox"})
    with pytest.raises(urllib.error.HTTPError) as http:
        urllib.request.urlopen(request, timeout=5)
    assert http.value.code == 400 and json.loads(http.value.read())["error"] == "bad_json"


def test_unreachable_epu_is_a_warning_not_a_crash() -> None:
    result = EpuClient("http://127.0.0.1:9", timeout=0.5).attach(build_lookup(ex.ordonnance(), source=SOURCE))
    assert result["epu"]["state"] == "unreachable" and result["status"] == "warning"


def test_state_survives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "epu.sqlite"
    with SandboxServer(db) as server:
        EpuClient(server.url).register(ex.NUMBER, {})
        EpuClient(server.url).dispense(ex.NUMBER, "total")
    with SandboxServer(db) as server:
        assert EpuClient(server.url).consult(ex.NUMBER)["state"] == "dispensed"


def test_epu_sandbox_command_serves_and_lookup_code_consults_it(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    db = tmp_path / "cli.sqlite"
    from host_bridge.testbench.epu_store import EpuStore
    store = EpuStore(db)
    store.register(ex.NUMBER, {})
    store.dispense(ex.NUMBER, "total")
    store.close()
    proc = subprocess.Popen([sys.executable, "-m", "host_bridge.cli", "epu-sandbox", "--db", str(db), "--port", "0",
                             "--token", "t0k"], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        url = line.split("listening on ")[1].split()[0]
        assert url.startswith("http://127.0.0.1:")
        env = {**os.environ, "ELECTEUR_EPU_URL": url, "ELECTEUR_EPU_TOKEN": "t0k"}
        result = subprocess.run([sys.executable, "-m", "host_bridge.cli", "lookup", "--code", ex.NUMBER.lower(), "--epu"],
                                capture_output=True, text=True, env=env, timeout=60)
        lookup = json.loads(result.stdout)
        assert lookup["epu"]["state"] == "dispensed" and lookup["warnings"][0]["code"] == "already_dispensed"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_epu_sandbox_port_in_use_is_a_one_line_error(sandbox: SandboxServer) -> None:
    import subprocess
    import sys

    port = sandbox.url.rsplit(":", 1)[1]
    result = subprocess.run([sys.executable, "-m", "host_bridge.cli", "epu-sandbox", "--db", ":memory:", "--port", port],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr and "cannot listen" in result.stderr


def look(client: EpuClient, n: str) -> dict:  # the QR of prescription n read at the counter
    return client.attach(build_lookup(ex.ordonnance(number=n), source=SOURCE))


def codes(lookup: dict) -> list[str]:
    return [w["code"] for w in lookup["warnings"]]


def test_each_due_renewal_is_ok_with_its_number_and_one_past_the_last_is_refused(sandbox: SandboxServer) -> None:
    client = EpuClient(sandbox.url)
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


def test_partial_dispensing_counts_per_line_and_starts_again_at_each_renewal(sandbox: SandboxServer) -> None:
    client = EpuClient(sandbox.url)
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
    assert lookup["warnings"][0]["message"].endswith("Reste à délivrer : 1 × B.")   # what is left, line by line
    assert client.dispense(n, "partial", lines=[{"text": "B", "qty": 1}])["state"] == "dispensed"


def test_a_dispensation_waiting_for_the_daily_transmission_does_not_look_available(sandbox: SandboxServer) -> None:
    client = EpuClient(sandbox.url)
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


def test_a_refusal_needs_a_reason_and_is_shown_when_the_code_comes_back(sandbox: SandboxServer) -> None:
    client = EpuClient(sandbox.url)
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
