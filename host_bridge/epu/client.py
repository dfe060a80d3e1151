"""The bridge's ePU client: consult and dispense over HTTP. Failures become lookup warnings, never crashes.

This is the seam for a real, authenticated integration (docs/epu.md): same methods, another
base URL and an `auth` callable that returns the request headers (e.g. a CPS-authenticated session).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import urllib.error
import urllib.request
from typing import Any, Callable, cast
from zoneinfo import ZoneInfo

from host_bridge.payloads.issues import Issue, add_issue, status_of
from host_bridge.payloads.schema import Epu, EpuLookup, EpuState

ENV_URL, ENV_TOKEN = "ELECTEUR_EPU_URL", "ELECTEUR_EPU_TOKEN"
SANDBOX_PORT = 8766  # `electeur epu-sandbox` listens here by default (the bridge API has 8765)
SANDBOX_TOKEN = "sandbox"  # the sandbox holds synthetic data only; a real endpoint never uses this
STATE_WARNINGS = {
    "unknown": ("epu_unknown", "L'ePU ne connaît pas cette ordonnance : non enregistrée, mal saisie ou falsifiée. Ne pas la délivrer comme ordonnance numérique."),
    "dispensed": ("already_dispensed", "Selon l'ePU, cette ordonnance a déjà été délivrée en totalité : refusez une seconde délivrance."),
    "partially_dispensed": ("partially_dispensed", "Selon l'ePU, cette ordonnance a été délivrée en partie : ne délivrez que le reste."),
    "cancelled": ("cancelled", "Selon l'ePU, le prescripteur a annulé cette ordonnance."),
    "unreachable": ("epu_unreachable", "ePU injoignable : réessayez, ou traitez-la comme une ordonnance papier."),
}
STATES = frozenset(STATE_WARNINGS) | {"available"}   # the lookup schema's epu.state enum
REFUSED = "refused_eprescription"
PARIS = ZoneInfo("Europe/Paris")


def default_base_url() -> str:
    """$ELECTEUR_EPU_URL, else the local sandbox."""
    return os.environ.get(ENV_URL) or f"http://127.0.0.1:{SANDBOX_PORT}"


class EpuError(Exception):
    """ePU answered with a refusal (`code`, `status`) or could not be reached (status 0)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


class EpuClient:
    """Consult and dispense prescriptions; sandbox by default, any base URL by configuration."""

    def __init__(self, base_url: str | None = None, *, token: str | None = None, timeout: float = 3.0,
                 auth: Callable[[], dict[str, str]] | None = None) -> None:
        self.base_url = (base_url or default_base_url()).rstrip("/")
        token = token or os.environ.get(ENV_TOKEN) or SANDBOX_TOKEN
        self.auth = auth or (lambda: {"Authorization": f"Bearer {token}"})
        self.timeout = timeout

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        """The decoded JSON answer, whatever its shape (callers check it); EpuError on a refusal or no answer."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json", **self.auth()})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            try:
                payload = json.loads(exc.read())
            except ValueError:
                payload = {}
            raise EpuError(exc.code, payload.get("error", "http_error"), payload.get("message", str(exc))) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise EpuError(0, "unreachable", f"ePU unreachable at {self.base_url}: {exc}") from None

    def consult(self, number: str) -> Any:
        """The prescription as ePU has it; raises EpuError (404 → code 'unknown')."""
        return self._call("GET", f"/v1/prescriptions/{number}")

    def dispense(self, number: str, kind: str, *, reason: str | None = None, lines: list[dict[str, Any]] | None = None,
                 transmit: str = "now") -> Any:
        """Record a dispensation (total / partial / refused), transmitted "now" or by the daily "batch";
        one past the last allowed raises EpuError('already_dispensed' or 'renewals_exhausted')."""
        return self._call("POST", f"/v1/prescriptions/{number}/dispensations",
                          {"type": kind, "reason": reason, "lines": lines or [], "transmit": transmit})

    def register(self, number: str, detail: dict[str, Any]) -> Any:
        """Register a prescription (sandbox seeding; a real ePU is fed by the prescriber's software)."""
        return self._call("POST", "/v1/prescriptions", {"number": number, **detail})

    def attach(self, lookup: EpuLookup) -> EpuLookup:
        """Consult ePU for an e-prescription lookup: add `epu` and the warning its state calls for."""
        number = lookup["fields"].get("prescription_number")
        if lookup["kind"] != "ordonnance" or not number or any(w.get("field") == "prescription_number" for w in lookup["warnings"]):
            return lookup
        checked_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        rest = ""
        try:
            consulted = self.consult(number)
            answer, rest = _read_answer(consulted), _remaining(consulted)
        except EpuError as exc:
            answer = {"state": "unknown" if exc.code == "unknown" else "unreachable", "detail": str(exc)}
        epu: Epu = {"endpoint": self.base_url, "checked_at": checked_at, **answer}
        lookup["epu"] = epu
        if epu["state"] in STATE_WARNINGS:
            add_issue(lookup, Issue(STATE_WARNINGS[epu["state"]][0],
                                    _state_message(epu) + (rest if epu["state"] == "partially_dispensed" else ""), "warning"))
        if "refusal" in epu:
            add_issue(lookup, Issue(REFUSED, f"Refus e-prescription enregistré le {_paris(epu['refusal']['at'])} "
                                    f"(motif : {epu['refusal']['reason']}) : elle a été délivrée comme une ordonnance "
                                    "classique ; ne la délivrez pas une seconde fois.", "warning"))
        return lookup

    def recheck(self, lookup: EpuLookup) -> EpuLookup:
        """Consult ePU again for a lookup recorded while it was unreachable: a copy with the fresh state,
        its warning instead of `epu_unreachable`, and `revision` one higher (the caller journals it)."""
        codes = {code for code, _ in STATE_WARNINGS.values()} | {REFUSED}
        fresh = lookup.copy()
        fresh.pop("epu", None)
        fresh["warnings"] = [w for w in lookup["warnings"] if w.get("code") not in codes]
        fresh["status"] = status_of(fresh["kind"], fresh["warnings"])
        fresh["revision"] = lookup.get("revision", 1) + 1
        return self.attach(fresh)


def _paris(iso: str) -> str:
    """An ISO time as the pharmacist reads it: JJ/MM/AAAA à HH:MM, Paris time."""
    try:
        return dt.datetime.fromisoformat(iso).astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")
    except (TypeError, ValueError):
        return str(iso)


def _state_message(epu: Epu) -> str:
    """The warning for an ePU state, with the renewal and transmission details that change what to do."""
    state, message = epu["state"], STATE_WARNINGS[epu["state"]][1]
    allowed = epu.get("dispensations_allowed", 1)
    if state == "dispensed" and allowed > 1:
        message = (f"Selon l'ePU, les {allowed} délivrances permises (renouvelable {allowed - 1} fois) ont toutes "
                   "été faites : l'ordonnance est épuisée, refusez une nouvelle délivrance.")
    elif state == "partially_dispensed" and epu.get("renewal"):
        message = message.replace("en partie", f"en partie (renouvellement n° {epu['renewal']})")
    if epu.get("transmission") == "pending" and state in ("dispensed", "partially_dispensed"):
        message += (f" Délivrance enregistrée le {_paris(epu.get('pending_since', ''))}, pas encore transmise "
                    "(« À transmettre », envoi quotidien à 12 h 30) : d'ici là, une autre pharmacie la voit disponible.")
    return message


def _remaining(answer: Any) -> str:
    """« Reste à délivrer : 1 × PARACETAMOL 1 g cp » from the lines left in the dispensation in progress."""
    view = answer.get("pending", answer) if isinstance(answer, dict) else {}
    lines = view.get("remaining") if isinstance(view, dict) else None
    left = [f"{line['qty']} × {line.get('text') or line.get('cip13') or '?'}" for line in lines or []
            if isinstance(line, dict) and isinstance(line.get("qty"), int) and line["qty"] > 0]
    return f" Reste à délivrer : {', '.join(left)}." if left else ""


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _read_answer(answer: Any) -> Epu:
    """The lookup's `epu` fields from a consult answer. An answer we cannot read (not an object, a state
    that is not one of ours, dispensations that are not a list) counts as ePU unreachable: the pharmacist
    is warned to retry or handle it as paper, never shown a state we made up.

    What the pharmacy recorded but has not transmitted yet (`pending`) counts: a prescription dispensed
    this morning must not look available at noon because the 12:30 batch has not run."""
    state = answer.get("state") if isinstance(answer, dict) else None
    dispensations = answer.get("dispensations", []) if isinstance(answer, dict) else None
    if not isinstance(state, str) or state not in STATES or not isinstance(dispensations, list):
        shown = repr(state)[:40] if isinstance(answer, dict) else type(answer).__name__
        return {"state": "unreachable", "detail": f"ePU answered with an unexpected body (state {shown})"}
    pending = answer.get("pending")
    view = pending if isinstance(pending, dict) and pending.get("state") in STATES and state != "cancelled" else answer
    out: Epu = {"state": cast(EpuState, view["state"]), "dispensations": len(dispensations)}
    allowed, done, renewal = (_count(view.get(k)) for k in ("dispensations_allowed", "dispensations_done", "renewal"))
    if allowed:
        out["dispensations_allowed"], out["dispensations_done"] = allowed, done or 0
        if allowed > 1 and renewal is not None:
            out["renewal"] = renewal
    if view is pending:
        out["transmission"], out["pending_since"] = "pending", str(pending.get("since", ""))
    elif done:
        out["transmission"] = "transmitted"
    refusals = [d for d in dispensations if isinstance(d, dict) and d.get("type") == "refused"]
    if refusals:
        out["refusal"] = {"reason": str(refusals[-1].get("reason") or ""), "at": str(refusals[-1].get("at") or "")}
    return out
