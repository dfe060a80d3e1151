"""The ePU sandbox over real HTTP and SQLite, and the client's lookups: double dispensation is refused."""

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
