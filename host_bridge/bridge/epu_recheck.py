"""E-prescriptions read while ePU was unreachable are consulted again until ePU answers.

The read itself was journaled and acknowledged at once (never held up by ePU); the pharmacist
saw "ePU unreachable: retry". When ePU answers, the lookup is revised in the journal (same id,
`revision` + 1), so the counter page replaces the card and every sink gets the completed version.
"""

from __future__ import annotations

import logging

from host_bridge.bridge.health import Health
from host_bridge.bridge.journal import Journal
from host_bridge.epu.client import EpuClient
from host_bridge.payloads.schema import EpuLookup

log = logging.getLogger("electeur.bridge.epu")
BATCH = 20


def epu_problem(health: Health, epu: EpuClient, lookup: EpuLookup) -> None:
    """Keep the 'ePU unreachable' health problem in step with the last answer (or its absence)."""
    state = lookup["epu"]["state"] if "epu" in lookup else None
    if state == "unreachable":
        health.report("epu", "epu_unreachable", f"ePU unreachable at {epu.base_url}: e-prescriptions show "
                      "'ePU unreachable, retry'; they are checked again automatically when ePU answers.")
    elif state:
        health.resolve("epu", "ePU answers again")


def recheck_pending(journal: Journal, epu: EpuClient, health: Health) -> int:
    """One pass: consult ePU for the oldest lookups still 'unreachable'; stop at the first that still is.
    Returns how many lookups were completed."""
    done = 0
    for lookup in journal.epu_unreachable(BATCH):
        revised = epu.recheck(lookup)
        epu_problem(health, epu, revised)
        if revised["epu"]["state"] == "unreachable":
            break
        journal.revise(revised)
        log.info("lookup %s: ePU answered on retry: %s", lookup["id"][:12], revised["epu"]["state"])
        done += 1
    return done
