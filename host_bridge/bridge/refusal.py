"""REFUS E-PRESCRIPTION: the pharmacist abandons the e-prescription (a reason is required) and dispenses it
as a classic paper one. ePU records the refusal; the lookup is revised and journaled like any other, so
every sink and the counter page get it, and the same QR read again shows the refusal."""

from __future__ import annotations

import logging
from typing import Any, cast

from host_bridge.bridge.api import BadRequest
from host_bridge.bridge.journal import Journal
from host_bridge.epu.client import EpuClient, EpuError
from host_bridge.payloads.schema import EpuLookup

log = logging.getLogger("electeur.bridge.refusal")


def refuse(journal: Journal, epu: EpuClient | None, lookup_id: str, reason: str) -> dict[str, Any]:
    """Record the refusal of the e-prescription read as `lookup_id`; the revised lookup, or BadRequest."""
    lookup = journal.get(lookup_id)
    if lookup is None:
        raise BadRequest(404, "aucune lecture avec cet identifiant")
    number = lookup["fields"].get("prescription_number")
    if lookup["kind"] != "ordonnance" or not number or lookup["status"] == "invalid":
        raise BadRequest(422, "seule une ordonnance numérique lue correctement peut être refusée")
    if epu is None:
        raise BadRequest(503, "pas d'ePU configuré : le refus ne peut pas être enregistré")
    try:
        epu.dispense(number, "refused", reason=reason)
    except EpuError as exc:
        raise BadRequest(502, f"l'ePU n'a pas enregistré le refus ({exc.code}) : {exc}") from None
    revised = epu.recheck(cast(EpuLookup, lookup))  # the journal keeps lookups as plain JSON objects
    journal.revise(dict(revised))
    log.info("lookup %s: REFUS E-PRESCRIPTION recorded in ePU (revision %s)", lookup_id[:12], revised.get("revision"))
    return dict(revised)
