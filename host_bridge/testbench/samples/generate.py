"""Generate sample images and DIR/manifest.json; optionally seed the ePU sandbox with their prescriptions.

Deterministic: sample i of seed S depends only on (S, i), so any subset can be regenerated.
"""

from __future__ import annotations

import base64
import json
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from host_bridge.testbench.accuracy import MANIFEST
from host_bridge.testbench.samples import camera, damage, scenes
from host_bridge.testbench.samples.content import ANCHOR, KIND_WEIGHTS, Content, make
from host_bridge.testbench.samples.symbols import modules

ECC = {"ordonnance": "MQ", "apcv": "LM", "unknown": "LMQ"}  # printed prescriptions use M/Q; dense phone tokens L/M
LINE = {"text": "PARACETAMOL 1 g cp", "qty": 2}


@dataclass(frozen=True)
class EpuScenario:
    """What ePU holds for a sample prescription (renewals allowed, what was done with it) and what its lookup
    must then say: ePU state, ePU warning codes, and for some the renewal number or the transmission state."""

    weight: int
    renewals: int = 0
    steps: tuple[str, ...] = ()   # total, partial, refused, cancel, batch (a total awaiting the daily transmission)
    expect: dict[str, Any] = field(default_factory=dict)


def _expect(state: str, *warnings: str, **more: Any) -> dict[str, Any]:
    return {"state": state, "warnings": list(warnings), **more}


EPU_SCENARIOS = {
    "available": EpuScenario(40, expect=_expect("available")),
    "dispensed": EpuScenario(6, steps=("total",), expect=_expect("dispensed", "already_dispensed", transmission="transmitted")),
    "partially_dispensed": EpuScenario(4, steps=("partial",), expect=_expect("partially_dispensed", "partially_dispensed")),
    "cancelled": EpuScenario(3, steps=("cancel",), expect=_expect("cancelled", "cancelled")),
    "unknown": EpuScenario(3, expect=_expect("unknown", "epu_unknown")),
    "renewal_first": EpuScenario(5, 3, expect=_expect("available", renewal=0)),
    "renewal_middle": EpuScenario(5, 3, ("total", "total"), _expect("available", renewal=2)),
    "renewal_last": EpuScenario(5, 3, ("total",) * 3, _expect("available", renewal=3)),
    "renewal_exhausted": EpuScenario(5, 3, ("total",) * 4, _expect("dispensed", "already_dispensed")),
    "refused": EpuScenario(5, steps=("refused",), expect=_expect("available", "refused_eprescription")),
    "not_transmitted": EpuScenario(5, steps=("batch",), expect=_expect("dispensed", "already_dispensed", transmission="pending")),
}


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


def draw(seed: int, index: int, damaged: bool = False) -> tuple[random.Random, Content]:
    """The content of sample `index` of `seed` (no image: what a keyboard-wedge test types), and the generator
    the rest of the sample is drawn from."""
    rng = random.Random(f"electeur-samples:{seed}:{index}" + (":damaged" if damaged else ""))
    kind = "ordonnance" if damaged else rng.choices(list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()))[0]
    return rng, make(kind, rng, ANCHOR)


def sample(seed: int, index: int, damaged: bool = False) -> tuple[dict[str, Any], bytes, Content]:
    """Sample `index` of `seed`: its manifest entry (without the file name), the image bytes and its content.

    `damaged`: an e-prescription whose QR is destroyed (`damage.DAMAGES`); its printed number stays legible
    in 4 samples out of 5."""
    rng, content = draw(seed, index, damaged)
    nprng = np.random.default_rng([seed & 0xFFFFFFFF, index])
    kind = content.kind
    ecc = rng.choice(ECC[kind]) if content.symbology == "qr" else "-"
    mods = modules(content, ecc if ecc != "-" else "M")
    d = rng.randint(5, 8)
    scene, doc, box = _scene(content, mods, d, rng, nprng)
    spoilt: dict[str, Any] = {}
    if damaged:
        spoilt = {"damage": rng.choice(damage.DAMAGES), "printed_code_legible": rng.random() < 0.8}
        doc = damage.damage(doc, box, rng, spoilt["damage"], spoilt["printed_code_legible"])
    paper = scene not in ("phone_screen",)
    if paper and rng.random() < 0.5:
        doc = camera.curl(doc, rng, rng.uniform(0.1, 0.5) * d)
    # frame pixels per module: the smallest sizes a counter camera still resolves (Data Matrix needs a little more)
    module_px = rng.uniform(3.0, 6.0) if content.symbology == "qr" else rng.uniform(4.0, 7.0) if paper else rng.uniform(3.6, 5.5)
    if damaged:
        module_px = max(module_px, 4.0)        # a damaged sheet is held close: its printed line big enough to read
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
    entry.update(spoilt)
    if kind == "ordonnance":
        entry["epu_state"] = rng.choices(list(EPU_SCENARIOS), weights=[s.weight for s in EPU_SCENARIOS.values()])[0]
        entry["epu"] = EPU_SCENARIOS[entry["epu_state"]].expect
    return entry, data, content


def generate(out: Path, count: int, seed: int, progress: Callable[[int], None] | None = None,
             damaged: bool = False, epu_first: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Write `count` images and manifest.json into `out`; return the manifest (`damaged`: see `sample`).
    `epu_first`: ePU scenarios the first e-prescriptions take instead of drawn ones (the demo shows a renewal
    and a refusal this way)."""
    out.mkdir(parents=True, exist_ok=True)
    manifest = []
    width = len(str(max(count - 1, 1)))
    forced = list(epu_first)
    for i in range(count):
        entry, data, _ = sample(seed, i, damaged)
        if forced and "epu_state" in entry:
            entry["epu_state"] = forced.pop(0)
            entry["epu"] = EPU_SCENARIOS[entry["epu_state"]].expect
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
            name = entry.get("epu_state")
            if not name:
                continue
            counts[name] = counts.get(name, 0) + 1
            if name == "unknown":
                continue  # a forged or unregistered prescription: ePU has never heard of it
            scenario, f = EPU_SCENARIOS[name], entry["fields"]
            number = f["prescription_number"]
            store.register(number, {"prescriber": {"am": f["prescriber_am"], "rpps": f["prescriber_rpps"]},
                                    "patient": {"family_name": f["patient_family_name"], "given_names": f["patient_given_names"],
                                                "birth_date": f["patient_birth_date"]},
                                    "lines": [LINE], "renewals": scenario.renewals}, replace=True)
            for step in scenario.steps:
                if step == "cancel":
                    store.cancel(number)
                elif step == "refused":
                    store.dispense(number, "refused", reason="QR illisible : délivrée comme une ordonnance papier")
                elif step == "partial":
                    store.dispense(number, "partial", lines=[{**LINE, "qty": 1}])
                else:
                    store.dispense(number, "total", transmit="batch" if step == "batch" else "now")
    finally:
        store.close()
    return counts
