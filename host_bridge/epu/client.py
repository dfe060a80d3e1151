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

    def dispense(self, number: str, kind: str, *, reason: str | None = None, lines: list[dict[str, Any]] | None = None) -> Any:
        """Record a dispensation (total / partial / refused); a second total raises EpuError('already_dispensed')."""
        return self._call("POST", f"/v1/prescriptions/{number}/dispensations", {"type": kind, "reason": reason, "lines": lines or []})

    def register(self, number: str, detail: dict[str, Any]) -> Any:
        """Register a prescription (sandbox seeding; a real ePU is fed by the prescriber's software)."""
        return self._call("POST", "/v1/prescriptions", {"number": number, **detail})

    def attach(self, lookup: EpuLookup) -> EpuLookup:
        """Consult ePU for an e-prescription lookup: add `epu` and the warning its state calls for."""
        number = lookup["fields"].get("prescription_number")
        if lookup["kind"] != "ordonnance" or not number or any(w.get("field") == "prescription_number" for w in lookup["warnings"]):
            return lookup
        checked_at = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        try:
            answer = _read_answer(self.consult(number))
        except EpuError as exc:
            answer = {"state": "unknown" if exc.code == "unknown" else "unreachable", "detail": str(exc)}
        epu: Epu = {"endpoint": self.base_url, "checked_at": checked_at, **answer}
        lookup["epu"] = epu
        if epu["state"] in STATE_WARNINGS:
            code, message = STATE_WARNINGS[epu["state"]]
            add_issue(lookup, Issue(code, message, "warning"))
        return lookup

    def recheck(self, lookup: EpuLookup) -> EpuLookup:
        """Consult ePU again for a lookup recorded while it was unreachable: a copy with the fresh state,
        its warning instead of `epu_unreachable`, and `revision` one higher (the caller journals it)."""
        codes = {code for code, _ in STATE_WARNINGS.values()}
        fresh = lookup.copy()
        fresh.pop("epu", None)
        fresh["warnings"] = [w for w in lookup["warnings"] if w.get("code") not in codes]
        fresh["status"] = status_of(fresh["kind"], fresh["warnings"])
        fresh["revision"] = lookup.get("revision", 1) + 1
        return self.attach(fresh)


def _read_answer(answer: Any) -> Epu:
    """`state` and `dispensations` from a consult answer. An answer we cannot read (not an object, a state
    that is not one of ours, dispensations that are not a list) counts as ePU unreachable: the pharmacist
    is warned to retry or handle it as paper, never shown a state we made up."""
    state = answer.get("state") if isinstance(answer, dict) else None
    dispensations = answer.get("dispensations", []) if isinstance(answer, dict) else None
    if not isinstance(state, str) or state not in STATES or not isinstance(dispensations, list):
        shown = repr(state)[:40] if isinstance(answer, dict) else type(answer).__name__
        return {"state": "unreachable", "detail": f"ePU answered with an unexpected body (state {shown})"}
    return {"state": cast(EpuState, state), "dispensations": len(dispensations)}
