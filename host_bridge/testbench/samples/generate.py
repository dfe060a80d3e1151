"""Generate sample images and DIR/manifest.json; optionally seed the ePU sandbox with their prescriptions.

Deterministic: sample i of seed S depends only on (S, i), so any subset can be regenerated.
"""

from __future__ import annotations

import base64
import json
import random
from pathlib import Path
from typing import Any, Callable

import numpy as np

from host_bridge.testbench.accuracy import MANIFEST
from host_bridge.testbench.samples import camera, scenes
from host_bridge.testbench.samples.content import ANCHOR, KIND_WEIGHTS, Content, make
from host_bridge.testbench.samples.symbols import modules

ECC = {"ordonnance": "MQ", "apcv": "LM", "unknown": "LMQ"}  # printed prescriptions use M/Q; dense phone tokens L/M
EPU_STATES = [("available", 80), ("dispensed", 10), ("partially_dispensed", 4), ("cancelled", 3), ("unknown", 3)]


def _scene(content: Content, mods: np.ndarray, d: int, rng: random.Random, nprng: np.random.Generator) -> tuple[str, np.ndarray, scenes.Box]:
    kind = content.kind
    if kind == "ordonnance":
        return ("prescription_page", *scenes.prescription_page(mods, d, rng, nprng, content.printed_code))
    if kind == "apcv" or (kind in ("amc", "unknown") and rng.random() < 0.3):
        return ("phone_screen", *scenes.phone_screen(mods, d, rng, nprng))
    if kind == "amc":
        return ("card", *scenes.card(mods, d, rng, nprng, rng.choice(["MUTUELLE SANTE PLUS", "Attestation tiers payant"])))
    if kind == "gs1":
        return ("pack", *scenes.pack(mods, d, rng, nprng, content.extra["hri"]))
    if kind == "ins" and rng.random() < 0.4:  # the INS printed on a page, no code under it: the classic confusion
        return ("page_with_ins", *scenes.prescription_page(mods, d, rng, nprng, None, heading="IDENTITE (INS)"))
    lines = {"ins": ["INS", "Identite nationale de sante", "Qualifiee"], "2ddoc": ["Justificatif de domicile", "2D-Doc"],
             "unknown": ["Scannez-moi !", "www.example.fr"]}[kind]
    return ("label", *scenes.label(mods, d, rng, nprng, lines))


def sample(seed: int, index: int) -> tuple[dict[str, Any], bytes, Content]:
    """Sample `index` of `seed`: its manifest entry (without the file name), the image bytes and its content."""
    rng = random.Random(f"electeur-samples:{seed}:{index}")
    nprng = np.random.default_rng([seed & 0xFFFFFFFF, index])
    kind = rng.choices(list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()))[0]
    content = make(kind, rng, ANCHOR)
    ecc = rng.choice(ECC[kind]) if content.symbology == "qr" else "-"
    mods = modules(content, ecc if ecc != "-" else "M")
    d = rng.randint(5, 8)
    scene, doc, box = _scene(content, mods, d, rng, nprng)
    paper = scene not in ("phone_screen",)
    if paper and rng.random() < 0.5:
        doc = camera.curl(doc, rng, rng.uniform(0.1, 0.5) * d)
    # frame pixels per module: the smallest sizes a counter camera still resolves (Data Matrix needs a little more)
    module_px = rng.uniform(3.0, 6.0) if content.symbology == "qr" else rng.uniform(4.0, 7.0) if paper else rng.uniform(3.6, 5.5)
    blur = rng.uniform(0, 0.22) * module_px
    frame, size = camera.shoot(doc, box, rng, nprng, module_doc_px=d, module_px=module_px, tilt=rng.uniform(0, 0.12),
                               screen=not paper, blur=blur, noise=rng.uniform(1.0, 5.0))
    data, ext = camera.encode(frame, rng)
    entry: dict[str, Any] = {"kind": kind, "payload_b64": base64.b64encode(content.payload).decode("ascii"),
                             "fields": content.fields, "scene": scene, "symbology": content.symbology,
                             "ecc": ecc, "resolution": f"{size[0]}x{size[1]}", "module_px": round(module_px, 2),
                             "blur_px": round(blur, 2), "ext": ext}
    if content.printed_code:
        entry["printed_code"] = content.printed_code
    if kind == "ordonnance":
        entry["epu_state"] = rng.choices([s for s, _ in EPU_STATES], weights=[w for _, w in EPU_STATES])[0]
    return entry, data, content


def generate(out: Path, count: int, seed: int, progress: Callable[[int], None] | None = None) -> list[dict[str, Any]]:
    """Write `count` images and manifest.json into `out`; return the manifest."""
    out.mkdir(parents=True, exist_ok=True)
    manifest = []
    width = len(str(max(count - 1, 1)))
    for i in range(count):
        entry, data, _ = sample(seed, i)
        name = f"{i:0{width}d}_{entry['kind']}.{entry.pop('ext')}"
        (out / name).write_bytes(data)
        manifest.append({"file": name, **entry})
        if progress:
            progress(1)
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


def seed_epu(db: Path, manifest: list[dict[str, Any]]) -> dict[str, int]:
    """Register the manifest's prescriptions in an ePU sandbox database, in the state each sample asks for."""
    from host_bridge.testbench.epu_store import EpuStore

    store = EpuStore(db)
    counts: dict[str, int] = {}
    try:
        for entry in manifest:
            state = entry.get("epu_state")
            if not state:
                continue
            counts[state] = counts.get(state, 0) + 1
            if state == "unknown":
                continue  # a forged or unregistered prescription: ePU has never heard of it
            f = entry["fields"]
            number = f["prescription_number"]
            store.register(number, {"prescriber": {"am": f["prescriber_am"], "rpps": f["prescriber_rpps"]},
                                    "patient": {"family_name": f["patient_family_name"], "given_names": f["patient_given_names"],
                                                "birth_date": f["patient_birth_date"]},
                                    "lines": [{"text": "PARACETAMOL 1 g cp", "qty": 2}]}, replace=True)
            if state == "dispensed":
                store.dispense(number, "total")
            elif state == "partially_dispensed":
                store.dispense(number, "partial", lines=[{"text": "PARACETAMOL 1 g cp", "qty": 1}])
            elif state == "cancelled":
                store.cancel(number)
    finally:
        store.close()
    return counts
