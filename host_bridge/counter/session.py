"""Counter session: the reads one reader makes for one patient, and the checks across them.

Reads from one reader close in time (no gap longer than `gap_s`) form a session. Each new
lookup is compared with the earlier ones: the prescription's patient against the apCV
beneficiary, the same prescription read twice, an INS or GS1 code presented where an
e-prescription was expected. Findings are warnings on the later lookup; a retransmitted
read (same lookup id) returns the lookup already built, so retries are idempotent.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import unicodedata
from host_bridge.payloads.issues import Issue, add_issue
from host_bridge.payloads.schema import EpuLookup

IDENTITY = {  # kind -> field prefix of the person the code is about
    "ordonnance": "patient", "ins": "patient", "apcv": "beneficiary",
}
PARTS = (("family_name", "nom"), ("given_names", "prénom"), ("birth_date", "date de naissance"))


def fold(value: str) -> str:
    """Compare names the way a pharmacist does: accents, case, hyphens and extra spaces ignored."""
    text = unicodedata.normalize("NFKD", value)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join(text.replace("-", " ").replace("'", " ").split())


def _identity(lookup: EpuLookup) -> dict[str, str] | None:
    prefix = IDENTITY.get(lookup["kind"])
    if not prefix:
        return None
    fields = lookup["fields"]
    ident = {part: fold(fields[f"{prefix}_{part}"]) for part, _ in PARTS if fields.get(f"{prefix}_{part}")}
    if "given_names" in ident:
        ident["given_names"] = ident["given_names"].split(" ")[0]  # first given name: 'Marie Claire' vs 'Marie'
    return ident or None


def _time(lookup: EpuLookup) -> dt.datetime | None:
    try:
        t = dt.datetime.fromisoformat(str(lookup["source"].get("time")))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


class CounterSession:
    """Cross-checks between the reads of one reader (the bridge keeps one per reader)."""

    def __init__(self, reader: str, *, gap_s: float = 180.0, expect: str = "ordonnance") -> None:
        self.reader = reader
        self.gap = dt.timedelta(seconds=gap_s)
        self.expect = expect
        self.id: str | None = None
        self._last: dt.datetime | None = None
        self._reads: list[EpuLookup] = []
        self._by_id: dict[str, EpuLookup] = {}

    def _roll(self, when: dt.datetime | None) -> str:
        """The id of the session a read at `when` belongs to, starting a new one after a gap."""
        if self.id is None or (when and self._last and when - self._last > self.gap):
            stamp = (when or dt.datetime.now(dt.timezone.utc)).isoformat()
            self.id = hashlib.sha256(f"{self.reader}\0{stamp}".encode()).hexdigest()[:16]
            self._reads = []
        if when and (self._last is None or when > self._last):
            self._last = when
        return self.id

    def observe(self, lookup: EpuLookup) -> EpuLookup:
        """Add this session's cross-check warnings to `lookup` and return it (or the earlier copy on a retransmission)."""
        if lookup["id"] in self._by_id:
            return copy.deepcopy(self._by_id[lookup["id"]])
        session_id = self._roll(_time(lookup))
        for issue in self._checks(lookup):
            add_issue(lookup, issue)
        lookup["session"] = {"id": session_id, "index": len(self._reads) + 1}
        self._reads.append(lookup)
        self._by_id[lookup["id"]] = copy.deepcopy(lookup)
        if len(self._by_id) > 1000:  # bounded memory on a long-running bridge
            self._by_id.pop(next(iter(self._by_id)))
        return lookup

    def _checks(self, lookup: EpuLookup) -> list[Issue]:
        kind, issues = lookup["kind"], []
        earlier = [r for r in self._reads if r["kind"] != "unknown"]
        if kind == "ordonnance":
            number = lookup["fields"].get("prescription_number")
            if number and any(r["kind"] == "ordonnance" and r["fields"].get("prescription_number") == number for r in earlier):
                issues.append(Issue("prescription_read_twice",
                                    "Cette ordonnance a déjà été lue pendant ce passage au comptoir.", "warning"))
        if kind in ("ins", "gs1") and self.expect == "ordonnance" and not any(r["kind"] == "ordonnance" for r in earlier):
            what = "le code INS du patient" if kind == "ins" else "une boîte de médicament"
            issues.append(Issue("not_a_prescription", f"Une ordonnance numérique était attendue, mais c'est {what} : "
                                "cherchez le QR code avec le code alphanumérique imprimé dessous.", "warning"))
        mine = _identity(lookup)
        if mine and kind in ("ordonnance", "apcv"):
            other_kind = "apcv" if kind == "ordonnance" else "ordonnance"
            for r in earlier:
                theirs = _identity(r) if r["kind"] == other_kind else None
                if not theirs:
                    continue
                differ = [label for part, label in PARTS if part in mine and part in theirs and mine[part] != theirs[part]]
                if differ:
                    issues.append(Issue("patient_mismatch", "Le patient de l'ordonnance numérique n'est pas le bénéficiaire de l'apCV "
                                        f"({', '.join(differ)} : différent).", "warning"))
                    break
        return issues
