"""`electeur run` as a real process: prints where things are, token once, journal survives SIGKILL."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from host_bridge.testbench.fault_rig import free_port
from host_bridge.testbench.epu_sandbox import SandboxServer
from host_bridge.payloads.validators import iso7064_mod37_36_check


def call(port: int, path: str, token: str | None, body: dict | None = None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def start(tmp_path, port: int, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_DATA_HOME": str(tmp_path / "data")}
    proc = subprocess.Popen([sys.executable, "-m", "host_bridge.cli", "run", "--api", f"127.0.0.1:{port}",
                             "--device", "tcp://127.0.0.1:1", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    end = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return proc
        except OSError:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < end, "bridge did not start"
            time.sleep(0.1)


@pytest.mark.slow
def test_run_prints_locations_generates_token_once_and_keeps_lookups_across_sigkill(tmp_path):
    port = free_port()
    proc = start(tmp_path, port)
    assert call(port, "/api/health", None)[0] == 401
    proc.send_signal(signal.SIGKILL)
    err = proc.communicate()[1]
    token_file = tmp_path / "cfg" / "electeur" / "token"
    token = token_file.read_text().strip()
    assert f"new API token saved in {token_file} (mode 0600, not shown here" in err and token not in err  # no TTY
    assert token_file.stat().st_mode & 0o777 == 0o600 and token_file.parent.stat().st_mode & 0o777 == 0o700
    assert "journal " + str(tmp_path / "data" / "electeur" / "journal.sqlite") in err
    assert f"page    http://127.0.0.1:{port}/" in err and "config  (none: defaults)" in err

    proc = start(tmp_path, port, "--stdout")
    try:
        status, typed = call(port, "/api/lookups/manual", token, {"code": "K7P3 9QXA 2M4T B8RD"})
        assert status == 201
        health = call(port, "/api/health", token)[1]
        assert health["lookups"] == 1 and set(health["sinks"]) == {"stdout"}
        devices = call(port, "/api/devices", token)[1]["devices"]
        assert devices[0]["device"] == "tcp://127.0.0.1:1" and devices[0]["state"] == "disconnected"
        time.sleep(0.5)  # the stdout sink's thread delivers
    finally:
        proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate()
    assert "new API token" not in err  # the saved token is reused, not mentioned again
    assert [json.loads(line)["id"] for line in out.splitlines()] == [typed["id"]]  # JSON lines sink

    proc = start(tmp_path, port)
    try:
        status, page = call(port, "/api/lookups", token)
        assert status == 200 and [lk["id"] for lk in page["lookups"]] == [typed["id"]]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0  # a service manager's stop is a clean exit


def test_port_in_use_is_a_clear_error(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_DATA_HOME": str(tmp_path / "data")}
        out = subprocess.run([sys.executable, "-m", "host_bridge.cli", "run", "--api", f"127.0.0.1:{port}",
                              "--device", "tcp://127.0.0.1:1"], capture_output=True, text=True, env=env, timeout=30)
    assert out.returncode == 2 and f"cannot listen on 127.0.0.1:{port}" in out.stderr.splitlines()[-1]


@pytest.mark.slow
def test_typed_code_gets_its_epu_state_from_the_sandbox(tmp_path, monkeypatch):
    with SandboxServer() as epu:
        epu.store.register("K7P39QXA2M4TB8RD", {"patient": "test"})
        monkeypatch.setenv("ELECTEUR_EPU_URL", epu.url)
        port = free_port()
        proc = start(tmp_path, port, "--token", "epu-test-token-0123456789")
        try:
            status, typed = call(port, "/api/lookups/manual", "epu-test-token-0123456789", {"code": "k7p3-9qxa-2m4t-b8rd"})
            never_registered = "AAAABBBBCCCCDDD" + iso7064_mod37_36_check("AAAABBBBCCCCDDD")
            _, unknown = call(port, "/api/lookups/manual", "epu-test-token-0123456789", {"code": never_registered})
            refused = call(port, f"/api/lookups/{typed['id']}/refusal", "epu-test-token-0123456789",
                           {"reason": "QR et patient incohérents"})
            _, again = call(port, "/api/lookups/manual", "epu-test-token-0123456789", {"code": "K7P39QXA2M4TB8RD"})
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)
    assert status == 201 and typed["kind"] == "ordonnance" and typed["epu"]["state"] == "available"
    assert unknown["epu"]["state"] == "unknown" and any(w["code"] == "epu_unknown" for w in unknown["warnings"])
    assert refused[0] == 201 and refused[1]["revision"] == 2                 # REFUS E-PRESCRIPTION through the bridge
    assert "refused_eprescription" in [w["code"] for w in again["warnings"]]  # and the code typed again says so
