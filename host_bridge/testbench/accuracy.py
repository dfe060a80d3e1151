"""Score lookups against a samples manifest: was each image read and classified to the right kind
with the right fields? And the two confusions the counter must never make."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from host_bridge.epu.client import REFUSED, STATE_WARNINGS
from host_bridge.payloads.manual import PRINTED_CODE_ENGINE

MANIFEST = "manifest.json"
EPU_CODES = {code for code, _ in STATE_WARNINGS.values()} | {REFUSED}


def epu_right(expect: dict[str, Any], lookup: dict[str, Any]) -> bool:
    """Does the lookup's ePU part say what the sample's ePU scenario calls for (state, ePU warnings, renewal,
    transmission)?"""
    epu = lookup.get("epu", {})
    codes = [w["code"] for w in lookup["warnings"] if w["code"] in EPU_CODES]
    return epu.get("state") == expect["state"] and codes == expect["warnings"] and \
        all(epu.get(key) == value for key, value in expect.items() if key not in ("state", "warnings"))


def numbers(lookups: list[dict[str, Any]]) -> set[str]:
    """The prescription numbers the lookups give, however they were read (QR, printed code)."""
    return {lk["fields"]["prescription_number"] for lk in lookups
            if lk["kind"] == "ordonnance" and "prescription_number" in lk["fields"]}


def judge_damaged(entry: dict[str, Any], lookups: list[dict[str, Any]]) -> str:
    """A prescription whose QR is destroyed: `wrong_number` is the one outcome never allowed; with its printed
    number legible it must be read (`not_read` otherwise); with that unreadable too, giving nothing is right."""
    expected = entry["fields"]["prescription_number"]
    found = numbers(lookups)
    if found - {expected}:
        return "wrong_number"
    if not entry.get("printed_code_legible"):
        return "ok"
    return "ok" if expected in found else "not_read"


def judge(entry: dict[str, Any], lookups: list[dict[str, Any]]) -> str:
    """`ok`, `not_read`, `wrong_kind`, `wrong_fields` or (when the lookups carry an ePU state) `wrong_epu`
    for one manifest entry and its image's lookups (`wrong_number` too for a damaged prescription: `judge_damaged`)."""
    if "damage" in entry:
        return judge_damaged(entry, lookups)
    payload = base64.b64decode(entry["payload_b64"])
    mine = [lk for lk in lookups if base64.b64decode(lk["bytes_b64"]) == payload]
    if not mine:
        return "not_read" if not lookups else "wrong_payload"
    if not any(lk["kind"] == entry["kind"] for lk in mine):
        return "wrong_kind"
    expected = entry.get("fields", {}).items()
    right = [lk for lk in mine if lk["kind"] == entry["kind"] and lk["fields"].items() >= expected]
    if not right:
        return "wrong_fields"
    checked = [lk for lk in right if "epu" in lk and "epu" in entry]
    return "wrong_epu" if checked and not any(epu_right(entry["epu"], lk) for lk in checked) else "ok"


def score(manifest: list[dict[str, Any]], lookups_by_file: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Accuracy per kind and overall, plus the forbidden confusions (e-prescription taken for another
    kind; INS or GS1 taken for an e-prescription), counted over every lookup of every image."""
    per_kind: dict[str, dict[str, int]] = {}
    per_epu: dict[str, dict[str, int]] = {}
    failures = []
    ordonnance_as_other = other_as_ordonnance = 0
    printed = {"damaged": 0, "legible": 0, "read_by_printed_code": 0, "wrong_numbers": 0}
    for entry in manifest:
        lookups = lookups_by_file.get(entry["file"], [])
        verdict = judge(entry, lookups)
        if "damage" in entry:
            printed["damaged"] += 1
            printed["legible"] += bool(entry.get("printed_code_legible"))
            printed["read_by_printed_code"] += any(lk["source"].get("engine") == PRINTED_CODE_ENGINE for lk in lookups
                                                   if lk["fields"].get("prescription_number") ==
                                                   entry["fields"]["prescription_number"])
            printed["wrong_numbers"] += verdict == "wrong_number"
        row = per_kind.setdefault(entry["kind"], {"images": 0, "ok": 0})
        row["images"] += 1
        row["ok"] += verdict == "ok"
        if "epu" in entry and any("epu" in lk for lk in lookups):
            epu_row = per_epu.setdefault(entry["epu_state"], {"prescriptions": 0, "ok": 0})
            epu_row["prescriptions"] += 1
            epu_row["ok"] += verdict == "ok"
        if verdict != "ok":
            failures.append({"file": entry["file"], "kind": entry["kind"], "verdict": verdict})
        kinds = {lk["kind"] for lk in lookups}
        if entry["kind"] == "ordonnance" and kinds - {"ordonnance"}:
            ordonnance_as_other += 1
        if entry["kind"] in ("ins", "gs1") and "ordonnance" in kinds:
            other_as_ordonnance += 1
    images = sum(r["images"] for r in per_kind.values())
    ok = sum(r["ok"] for r in per_kind.values())
    for row in per_kind.values():
        row["rate"] = round(row["ok"] / row["images"], 4)
    return {"images": images, "ok": ok, "rate": round(ok / images, 4) if images else 0.0,
            "per_kind": dict(sorted(per_kind.items())), "per_epu_scenario": dict(sorted(per_epu.items())),
            "ordonnance_as_other": ordonnance_as_other,
            "ins_or_gs1_as_ordonnance": other_as_ordonnance, "failures": failures,
            **({"damaged_qr": printed} if printed["damaged"] else {})}


def format_report(report: dict[str, Any]) -> str:
    """The score as a few human lines."""
    lines = [f"accuracy: {report['ok']}/{report['images']} = {100 * report['rate']:.1f} % read, right kind, right fields"]
    for kind, row in report["per_kind"].items():
        lines.append(f"  {kind:<11} {row['ok']:>4}/{row['images']:<4} {100 * row['rate']:5.1f} %")
    if report.get("per_epu_scenario"):
        lines.append("ePU: e-prescriptions whose lookup says what ePU holds (state, warnings, renewal, transmission):")
        lines += [f"  {name:<20} {row['ok']:>4}/{row['prescriptions']}" for name, row in report["per_epu_scenario"].items()]
    lines.append(f"e-prescriptions taken for another kind: {report['ordonnance_as_other']}; "
                 f"INS/GS1 taken for an e-prescription: {report['ins_or_gs1_as_ordonnance']}")
    if "damaged_qr" in report:
        d = report["damaged_qr"]
        lines.append(f"destroyed QR: {d['read_by_printed_code']}/{d['legible']} read on the printed code "
                     f"({d['damaged']} damaged, {d['damaged'] - d['legible']} with the code unreadable too); "
                     f"wrong prescription numbers: {d['wrong_numbers']}")
    lines += [f"  miss: {f['file']} ({f['kind']}): {f['verdict']}" for f in report["failures"][:20]]
    return "\n".join(lines)


def load_manifest(directory: Path) -> list[dict[str, Any]] | None:
    """`directory/manifest.json` as written by `electeur samples`, or None when there is none."""
    path = Path(directory) / MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: not a readable JSON manifest ({exc})") from None
    if not isinstance(manifest, list) or not all(isinstance(e, dict) and {"file", "kind", "payload_b64"} <= set(e) for e in manifest):
        raise ValueError(f"{path}: must be a JSON array of objects with file, kind, payload_b64")
    return manifest


def score_rows(directory: Path, rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Score replay rows (each with `file` and `lookups`) against the manifest of `directory`, if it has one."""
    manifest = load_manifest(directory)
    if manifest is None:
        return None
    base = Path(directory).resolve()
    by_file = {}
    for row in rows:
        path = Path(row["file"]).resolve()
        if path.is_relative_to(base):
            by_file[path.relative_to(base).as_posix()] = row.get("lookups", [])
    return score(manifest, by_file)
