"""One lookup pipeline: the bridge, the API's manual entry, `classify`, `lookup --code` and `replay` give the
same lookup for the same input and session (only the read's id, source and times may differ)."""

from __future__ import annotations

import json

import segno

import payload_examples as ex
from host_bridge.bridge.config import Config, Epu
from host_bridge.bridge.redact import Redactor
from host_bridge.bridge.service import Bridge
from host_bridge.cli import main as electeur
from host_bridge.epu.client import EpuClient
from host_bridge.testbench.epu_sandbox import SandboxServer

PER_READ = ("id", "source")           # who read it and when: differs by design between callers
CODE = ex.NUMBER[:4] + " " + ex.NUMBER[4:8].lower() + "-" + ex.NUMBER[8:]   # typed with spaces, a dash, lower case


def same_parts(lookup: dict) -> dict:
    """A lookup without what belongs to one read: its id, source, session id and ePU check time."""
    out = {k: v for k, v in lookup.items() if k not in PER_READ}
    if "session" in out:
        out["session"] = {"index": out["session"]["index"]}
    if "epu" in out:
        out["epu"] = {k: v for k, v in out["epu"].items() if k != "checked_at"}
    return out


def json_lines(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def bridge_with(tmp_path, epu_url: str | None, name: str = "j") -> Bridge:
    cfg = Config(journal=tmp_path / f"{name}.sqlite", journal_key=tmp_path / "journal.key",
                 epu=Epu(url=epu_url) if epu_url else None)
    return Bridge(cfg, "t" * 20, Redactor())


def test_a_session_of_scans_gives_the_same_lookups_in_the_bridge_classify_and_replay(tmp_path, capsys) -> None:
    # the apCV of another patient, then the same prescription twice (printed again: other bytes, same number)
    reads = [ex.apcv(family="Durand"), ex.ordonnance(), ex.ordonnance(given="Marie-Claire")]
    bridge = bridge_with(tmp_path, None)
    try:
        for n, data in enumerate(reads):
            bridge.on_read("r1", str(n), data, "zxing")
        in_bridge, _ = bridge.journal.after(None)
    finally:
        bridge.dispatcher.stop(0.1)
        bridge.journal.close()

    assert electeur(["classify", "--session", "--reader", "r1", *(r.decode() for r in reads)]) == 0
    classified = json_lines(capsys)

    images = tmp_path / "images"
    images.mkdir()
    for n, data in enumerate(reads):
        segno.make_qr(data, error="m").save(str(images / f"{n}.png"), scale=6, border=4)
        (images / f"{n}.txt").write_bytes(data)   # what replay must read
    assert electeur(["replay", str(images), "--json", "--session"]) == 0
    replayed = [lk for row in json_lines(capsys) for lk in row["lookups"]]

    assert len(in_bridge) == len(classified) == len(replayed) == 3
    codes = [[w["code"] for w in lk["warnings"]] for lk in in_bridge]
    assert codes == [[], ["patient_mismatch"], ["prescription_read_twice", "patient_mismatch"]]
    assert [same_parts(lk) for lk in classified] == [same_parts(lk) for lk in in_bridge]
    assert [same_parts(lk) for lk in replayed] == [same_parts(lk) for lk in in_bridge]


def test_a_typed_code_gives_the_same_lookup_in_the_bridge_its_api_and_lookup_code(tmp_path, capsys) -> None:
    with SandboxServer() as server:
        EpuClient(server.url).register(ex.NUMBER, {})
        found = []
        for name, entry in (("bridge", lambda b: b.manual_entry), ("api", lambda b: b.api.manual_entry)):
            bridge = bridge_with(tmp_path, server.url, name)   # each with a fresh counter session
            try:
                found.append(entry(bridge)(CODE))   # the api's is what POST /api/lookups/manual calls
            finally:
                bridge.dispatcher.stop(0.1)
                bridge.journal.close()
        by_bridge, by_api = found
        assert electeur(["lookup", "--code", CODE, "--epu", server.url]) == 0
        by_command = json_lines(capsys)[0]

    assert by_bridge["epu"]["state"] == "available" and by_bridge["fields"] == {"prescription_number": ex.NUMBER}
    assert same_parts(by_api) == same_parts(by_bridge)
    without_session = {k: v for k, v in same_parts(by_bridge).items() if k != "session"}
    assert same_parts(by_command) == without_session   # a one-off command has no counter session
