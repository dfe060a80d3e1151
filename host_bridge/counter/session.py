"""Counter session: the reads one reader makes for one patient, and the checks across them.

A session is one patient's visit to the counter. It starts with the reader's first read, after a
gap longer than `gap_s`, when the pharmacist says so (`new_patient()`: the page's "Nouveau patient"), or when
a read shows another person than the session's: a card or prescription of the same kind as one already read,
for a person none of the session's reads names (the next patient's apCV; patients following each other within
`gap_s` are not cross-checked against each other). Each new lookup is compared with the earlier ones: the
identity of the prescription's patient, of the apCV beneficiary and of the INS (names, birth date, sex) against
each other, the same prescription read twice, an INS or GS1 code presented where an e-prescription was
expected. Findings are warnings on the later lookup; a retransmitted
read (same lookup id) returns the lookup already built, so retries are idempotent.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import unicodedata
from typing import Any

from host_bridge.payloads.issues import Issue, add_issue
from host_bridge.payloads.schema import EpuLookup, Opening

IDENTITY = {  # kind -> (field prefix of the person the code is about, how the warning names that person)
    "ordonnance": ("patient", "le patient de l'ordonnance numérique"),
    "apcv": ("beneficiary", "le bénéficiaire de l'apCV"),
    "ins": ("patient", "l'identité INS du patient"),
}
PARTS = (("family_name", "nom"), ("given_names", "prénoms"), ("birth_date", "date de naissance"), ("sex", "sexe"))


def fold(value: str) -> str:
    """Compare names the way a pharmacist does: accents, case, hyphens, apostrophes and extra spaces ignored."""
    text = unicodedata.normalize("NFKD", value)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return " ".join(text.replace("-", " ").replace("'", " ").replace("’", " ").split())


def _identity(lookup: EpuLookup) -> dict[str, Any] | None:
    """The person a code is about: names as sets of folded words (order does not matter), birth date, sex."""
    if lookup["kind"] not in IDENTITY:
        return None
    prefix, fields = IDENTITY[lookup["kind"]][0], lookup["fields"]
    ident: dict[str, Any] = {}
    for part, _ in PARTS:
        value = fields.get(f"{prefix}_{part}")
        if value:
            ident[part] = frozenset(fold(value).split()) if part.endswith("names") or part == "family_name" else value
    return ident or None


def _same(part: str, a: Any, b: Any) -> bool:
    """Names match when one holds every word of the other ('Marie' and 'MARIE CLAIRE', 'Claire Marie' and
    'Marie Claire', 'DUPONT' and 'DUPONT-MARTIN'); dates and sex must be equal."""
    return a <= b or b <= a if isinstance(a, frozenset) else bool(a == b)


def _differ(mine: dict[str, Any], theirs: dict[str, Any]) -> list[str]:
    """The parts (nom, prénoms, date de naissance, sexe) both identities give and that do not match."""
    return [label for part, label in PARTS if part in mine and part in theirs and not _same(part, mine[part], theirs[part])]


def identity_mismatch(lookup: EpuLookup, other: EpuLookup) -> Issue | None:
    """A `patient_mismatch` warning when two codes of one counter visit do not name the same person.
    It says which parts differ, never the values (they are health data and end up in logs)."""
    mine, theirs = _identity(lookup), _identity(other)
    if not mine or not theirs:
        return None
    differ = _differ(mine, theirs)
    if not differ:
        return None
    note = (" Le nom de naissance de l'INS peut différer du nom d'usage (mariage) : vérifiez la pièce d'identité."
            if "ins" in (lookup["kind"], other["kind"]) and differ == ["nom"] else " Vérifiez l'identité avant de délivrer.")
    return Issue("patient_mismatch", f"Identité différente entre {IDENTITY[other['kind']][1]} et "
                 f"{IDENTITY[lookup['kind']][1]} : {', '.join(differ)} ne correspond{'ent' if len(differ) > 1 else ''} "
                 f"pas.{note}", "warning")


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
        self._asked = False   # the pharmacist asked for a new session: the next read opens it
        self._opened = 0
        self._last: dt.datetime | None = None
        self._reads: list[EpuLookup] = []
        self._by_id: dict[str, EpuLookup] = {}

    def new_patient(self) -> None:
        """The pharmacist starts the next patient: the next read opens a new session."""
        self._asked = True

    def _opening(self, when: dt.datetime | None, lookup: EpuLookup) -> Opening | None:
        """Why `lookup` opens a new session, or None when it belongs to the current one."""
        if self.id is None:
            return "first_read"
        if self._asked:
            return "pharmacist"
        if when and self._last and when - self._last > self.gap:
            return "timer"
        mine = _identity(lookup)
        if mine is None:
            return None
        known = [(r["kind"], _identity(r)) for r in self._reads]
        same_kind_other = any(k == lookup["kind"] and ident and _differ(mine, ident) for k, ident in known)
        named = any(ident and not _differ(mine, ident) for _, ident in known)
        return "identity_change" if same_kind_other and not named else None

    def _roll(self, when: dt.datetime | None, lookup: EpuLookup) -> tuple[str, Opening | None]:
        """The id of the session `lookup` (read at `when`) belongs to, and why it opened one (or None)."""
        opened = self._opening(when, lookup)
        if opened:
            self._opened += 1
            stamp = (when or dt.datetime.now(dt.timezone.utc)).isoformat()
            self.id = hashlib.sha256(f"{self.reader}\0{stamp}\0{self._opened}".encode()).hexdigest()[:16]
            self._reads, self._asked = [], False
        if when and (self._last is None or when > self._last):
            self._last = when
        return self.id, opened

    def observe(self, lookup: EpuLookup) -> EpuLookup:
        """Add this session's cross-check warnings to `lookup` and return it (or the earlier copy on a retransmission)."""
        if lookup["id"] in self._by_id:
            return copy.deepcopy(self._by_id[lookup["id"]])
        session_id, opened = self._roll(_time(lookup), lookup)
        for issue in self._checks(lookup):
            add_issue(lookup, issue)
        lookup["session"] = {"id": session_id, "index": len(self._reads) + 1}
        if opened:
            lookup["session"]["opened_by"] = opened
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
        if kind in IDENTITY:
            for other_kind in IDENTITY:  # the latest earlier read of each other kind: one warning per pair
                other = next((r for r in reversed(earlier) if r["kind"] == other_kind), None)
                issue = identity_mismatch(lookup, other) if other_kind != kind and other else None
                if issue:
                    issues.append(issue)
        return issues
