"""Sample generator: deterministic per seed, manifest as documented, payloads classified to their kind and fields."""

import base64
import hashlib
import json
import random
from pathlib import Path

import numpy as np
import zxingcpp
from PIL import Image

from host_bridge.testbench.epu_store import EpuStore
from host_bridge.payloads import build_lookup
from host_bridge.testbench.samples.content import ANCHOR, KIND_WEIGHTS, make
from host_bridge.testbench.samples.generate import generate, seed_epu

SOURCE = {"reader": "t", "read_id": None, "engine": None, "time": "2026-06-01T10:00:00+00:00"}


def digests(directory: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def test_same_seed_same_files_other_seed_other_files(tmp_path: Path) -> None:
    generate(tmp_path / "a", 8, seed=11)
    generate(tmp_path / "b", 8, seed=11)
    generate(tmp_path / "c", 8, seed=12)
    assert digests(tmp_path / "a") == digests(tmp_path / "b")
    assert digests(tmp_path / "a")["manifest.json"] != digests(tmp_path / "c")["manifest.json"]


def test_manifest_entries_and_images_read_back(tmp_path: Path) -> None:
    manifest = generate(tmp_path, 10, seed=3)
    assert json.loads((tmp_path / "manifest.json").read_text()) == manifest
    read = 0
    for entry in manifest:
        assert {"file", "kind", "payload_b64", "fields"} <= set(entry)
        gray = np.asarray(Image.open(tmp_path / entry["file"]).convert("L"))
        read += base64.b64decode(entry["payload_b64"]) in [r.bytes for r in zxingcpp.read_barcodes(gray)]
    assert read >= 9


def test_every_generated_payload_classifies_to_its_kind_and_fields() -> None:
    rng = random.Random(5)
    for kind in KIND_WEIGHTS:
        for _ in range(40):
            content = make(kind, rng, ANCHOR)
            lookup = build_lookup(content.payload, source=SOURCE)
            assert lookup["kind"] == kind, (content.payload, lookup["warnings"])
            assert lookup["fields"].items() >= content.fields.items()
            assert kind == "unknown" or lookup["status"] == "ok", lookup["warnings"]


def test_seed_epu_registers_prescriptions_in_their_states(tmp_path: Path) -> None:
    manifest = [e for e in generate(tmp_path / "s", 12, seed=2)]
    counts = seed_epu(tmp_path / "epu.sqlite", manifest)
    store = EpuStore(tmp_path / "epu.sqlite")
    for entry in manifest:
        if entry.get("epu_state") not in (None, "unknown"):
            held = store.get(entry["fields"]["prescription_number"])
            assert held.get("pending", held)["state"] == entry["epu"]["state"]
    assert sum(counts.values()) == sum(1 for e in manifest if e["kind"] == "ordonnance")


def test_accuracy_scoring_counts_misses_and_forbidden_confusions() -> None:
    from host_bridge.testbench.accuracy import score

    rng = random.Random(1)
    entries, lookups = [], {}
    for i, kind in enumerate(["ordonnance", "ins", "gs1", "amc"]):
        content = make(kind, rng, ANCHOR)
        entries.append({"file": f"{i}.jpg", "kind": kind, "payload_b64": base64.b64encode(content.payload).decode(),
                        "fields": content.fields})
        lookups[f"{i}.jpg"] = [build_lookup(content.payload, source=SOURCE)]
    lookups["3.jpg"] = []                                       # not read
    lookups["1.jpg"][0] = {**lookups["1.jpg"][0], "kind": "ordonnance"}  # an INS taken for a prescription
    report = score(entries, lookups)
    assert (report["ok"], report["images"]) == (2, 4)
    assert report["per_kind"]["amc"] == {"images": 1, "ok": 0, "rate": 0.0}
    assert report["ins_or_gs1_as_ordonnance"] == 1 and report["ordonnance_as_other"] == 0
    assert {f["verdict"] for f in report["failures"]} == {"not_read", "wrong_kind"}
