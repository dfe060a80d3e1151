"""The post-decode pipeline: symbols → lookups with session checks and ePU state; replay ids are stable."""

from dataclasses import dataclass

import payload_examples as ex
from host_bridge.epu.client import EpuClient
from host_bridge.epu.sandbox import SandboxServer
from host_bridge.payloads.pipeline import LookupPipeline


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
