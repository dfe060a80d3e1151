"""Every ePU scenario the samples carry (renewals first, middle, last and one past the last, refusals,
dispensations not yet transmitted...) gives the lookup it calls for, through the sandbox and the pipeline."""

from __future__ import annotations

import base64
import random
from pathlib import Path

from host_bridge.counter.pipeline import LookupPipeline
from host_bridge.epu.client import EpuClient
from host_bridge.testbench.accuracy import format_report, score
from host_bridge.testbench.epu_sandbox import SandboxServer
from host_bridge.testbench.samples.content import ANCHOR, make
from host_bridge.testbench.samples.generate import EPU_SCENARIOS, seed_epu


def test_each_epu_scenario_reads_right(tmp_path: Path) -> None:
    rng = random.Random(5)
    manifest = []
    for name, scenario in EPU_SCENARIOS.items():
        for n in range(2):
            content = make("ordonnance", rng, ANCHOR)
            manifest.append({"file": f"{name}-{n}.png", "kind": "ordonnance", "fields": content.fields,
                             "payload_b64": base64.b64encode(content.payload).decode(), "epu_state": name,
                             "epu": scenario.expect})
    seed_epu(tmp_path / "epu.sqlite", manifest)
    with SandboxServer(tmp_path / "epu.sqlite") as sandbox:
        pipeline = LookupPipeline(epu=EpuClient(sandbox.url), sessions=False)
        by_file = {e["file"]: [pipeline.lookup(base64.b64decode(e["payload_b64"]),
                                               {"reader": "t", "read_id": e["file"], "engine": "zxing", "time": None})]
                   for e in manifest}
    report = score(manifest, by_file)
    assert report["failures"] == [], format_report(report)
    assert set(report["per_epu_scenario"]) == set(EPU_SCENARIOS)
    last = by_file["renewal_last-0.png"][0]
    assert last["status"] == "ok" and last["epu"]["renewal"] == 3 and last["epu"]["dispensations_allowed"] == 4
    past = by_file["renewal_exhausted-0.png"][0]
    assert past["status"] == "warning" and "4 délivrances permises" in past["warnings"][0]["message"]


def test_a_wrong_epu_answer_is_a_miss() -> None:
    entry = {"file": "a.png", "kind": "ordonnance", "fields": {}, "payload_b64": base64.b64encode(b"x").decode(),
             "epu_state": "renewal_middle", "epu": EPU_SCENARIOS["renewal_middle"].expect}
    lookup = {"kind": "ordonnance", "fields": {}, "bytes_b64": entry["payload_b64"], "warnings": [],
              "epu": {"state": "available", "renewal": 1}}
    report = score([entry], {"a.png": [lookup]})
    assert report["failures"] == [{"file": "a.png", "kind": "ordonnance", "verdict": "wrong_epu"}]
