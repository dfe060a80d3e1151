"""The counter pipeline shown end to end on freshly generated samples, with the ePU sandbox running.

Generates samples (and registers their prescriptions in a sandbox database, the first ones as a renewal
due, a refused e-prescription and a plain one), starts the sandbox, decodes every image, builds lookups
with the ePU state, scores them against the manifest, then shows the double-dispensation refusal on a
real prescription of the set.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Iterable

from host_bridge.epu.client import EpuClient, EpuError
from host_bridge.testbench.epu_sandbox import SandboxServer
from host_bridge.testbench.accuracy import format_report, score
from host_bridge.counter.pipeline import Decoded, LookupPipeline
from host_bridge.payloads.schema import EpuLookup
from host_bridge.testbench.samples.generate import generate, seed_epu

Decode = Callable[[Path], Iterable[Decoded]]
DEMO_SCENARIOS = ("renewal_middle", "refused", "available")  # the first e-prescriptions of the demo set


def epu_column(lookup: EpuLookup) -> str:
    """The ePU state, with the renewal for a renewable prescription ("available, renouv. 2/3")."""
    epu = lookup.get("epu")
    if epu is None:
        return "-"
    allowed = epu.get("dispensations_allowed", 1)
    renewal = f", renouv. {epu['renewal']}/{allowed - 1}" if allowed > 1 and "renewal" in epu else ""
    pending = ", à transmettre" if epu.get("transmission") == "pending" else ""
    return epu["state"] + renewal + pending


def run_counter_demo(workdir: Path, decode: Decode, *, count: int = 24, seed: int = 1,
                     say: Callable[[str], None] = print) -> dict:
    """Run the demo in `workdir`; return the accuracy report."""
    samples, db, jsonl = workdir / "samples", workdir / "epu-sandbox.sqlite", workdir / "lookups.jsonl"
    db.unlink(missing_ok=True)
    manifest = generate(samples, count, seed, epu_first=DEMO_SCENARIOS)
    seed_epu(db, manifest)
    say(f"generated {count} sample images (seed {seed}) in {samples}; prescriptions registered in {db}")
    with SandboxServer(db) as server:
        client = EpuClient(server.url)
        say(f"ePU sandbox running on {server.url}")
        pipeline = LookupPipeline(epu=client, sessions=False)
        by_file: dict[str, list[dict]] = {}
        say(f"{'image':<22} {'expected':<11} {'read as':<11} {'status':<8} {'action':<27} {'ePU':<28} warnings")
        with jsonl.open("w", encoding="utf-8") as out:
            for entry in manifest:
                lookups = pipeline.lookups(decode(samples / entry["file"]), reader="demo", read_id=entry["file"])
                by_file[entry["file"]] = lookups
                for lk in lookups:
                    out.write(json.dumps(lk) + "\n")
                first = lookups[0] if lookups else None
                say(f"{entry['file']:<22} {entry['kind']:<11} {first['kind'] if first else '(no read)':<11} "
                    f"{first['status'] if first else '':<8} {first['action']['code'] if first else '':<27} "
                    f"{epu_column(first) if first else '':<28} "
                    f"{','.join(w['code'] for w in first['warnings']) if first else ''}")
        report = score(manifest, by_file)
        say(format_report(report))
        _double_dispensation(client, by_file, say)
    say(f"where to look: images and manifest {samples}/, lookups (JSON lines) {jsonl}, ePU database {db} "
        f"(serve it again: electeur epu-sandbox --db {db})")
    return report


def _double_dispensation(client: EpuClient, by_file: dict[str, list[dict]], say: Callable[[str], None]) -> None:
    available = next((lk for lks in by_file.values() for lk in lks if lk["kind"] == "ordonnance"
                      and lk.get("epu", {}).get("state") == "available" and lk["epu"].get("dispensations_allowed", 1) == 1
                      and not lk["warnings"]), None)
    if available is None:
        return
    number = available["fields"]["prescription_number"]
    client.dispense(number, "total")
    say(f"dispensed {number} in full; a second total dispensation:")
    try:
        client.dispense(number, "total")
    except EpuError as exc:
        say(f"  refused by ePU: {exc.code} ({exc})")
    again = client.attach({**available, "warnings": list(available["warnings"])})
    say(f"  the same prescription presented again reads as: status {again['status']}, "
        f"warnings {[w['code'] for w in again['warnings']]}")
