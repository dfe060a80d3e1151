"""The post-decode pipeline: symbols → lookups with session checks and ePU state; replay ids are stable."""

from dataclasses import dataclass

import payload_examples as ex
from host_bridge.epu.client import EpuClient
from host_bridge.testbench.epu_sandbox import SandboxServer
from host_bridge.counter.pipeline import LookupPipeline


@dataclass
class Symbol:
    data: bytes
    engine: str = "zxing"


def test_pipeline_adds_session_checks_and_epu_state_with_stable_ids() -> None:
    with SandboxServer() as server:
        client = EpuClient(server.url)
        client.register(ex.NUMBER, {})
        client.dispense(ex.NUMBER, "total")
        pipe = LookupPipeline(epu=client)
        first = pipe.lookups([Symbol(ex.apcv(family="Durand")), Symbol(ex.ordonnance())], reader="r1", read_id="img1.jpg")
        assert [lk["kind"] for lk in first] == ["apcv", "ordonnance"]
        assert {w["code"] for w in first[1]["warnings"]} == {"patient_mismatch", "already_dispensed"}
        again = LookupPipeline(sessions=False).lookups([Symbol(ex.apcv(family="Durand"))], reader="r1", read_id="img1.jpg")
        assert again[0]["id"] == first[0]["id"] and "epu" not in again[0]


def test_replay_rows_gain_lookups_and_are_scored_against_the_manifest(tmp_path) -> None:
    import base64

    import numpy as np
    import zxingcpp
    from PIL import Image

    from host_bridge.testbench.accuracy import score_rows
    from host_bridge.testbench.samples.generate import generate

    manifest = generate(tmp_path, 5, seed=4)
    pipe = LookupPipeline(sessions=False)
    rows = []
    for entry in manifest:
        gray = np.asarray(Image.open(tmp_path / entry["file"]).convert("L"))
        symbols = [{"bytes_b64": base64.b64encode(r.bytes).decode(), "engine": "zxing"} for r in zxingcpp.read_barcodes(gray)]
        rows.append(pipe.add_to_row({"file": str(tmp_path / entry["file"]), "symbols": symbols}))
    assert all(len(row["lookups"]) == len(row["symbols"]) for row in rows)
    report = score_rows(tmp_path, rows)
    assert report["images"] == 5 and report["ok"] >= 4
    assert score_rows(tmp_path / "nowhere", rows) is None


def test_a_broken_manifest_is_reported_not_crashed(tmp_path) -> None:
    import pytest

    from host_bridge.testbench.accuracy import load_manifest

    (tmp_path / "manifest.json").write_text('[{"file": 1}]')
    with pytest.raises(ValueError, match="array of objects"):
        load_manifest(tmp_path)
