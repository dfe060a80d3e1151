"""Manual entry: the code printed under an e-prescription's QR, typed when the QR will not read.

Spaces, dashes and case are forgiven; the check character is verified, so a typo is caught
at the counter rather than by ePU.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from host_bridge.errors import UserError
from host_bridge.payloads.issues import Issue
from host_bridge.payloads.lookup import assemble
from host_bridge.payloads.profiles import Profiles, default_profiles
from host_bridge.payloads.schema import EpuLookup
from host_bridge.payloads.validators import VALIDATORS


PRINTED_CODE_ENGINE = "ocr-printed-code"   # `source.engine` of a number the host read by OCR under a damaged QR
PRINTED_CODE_CHECK = Issue("printed_code_ocr", "Numéro lu sur le code imprimé sous le QR (le QR ne se lit pas) : "
                           "vérifiez-le sur l'ordonnance.")


def normalise_code(code: str) -> str:
    """Drop spaces, dashes, dots and underscores; upper-case."""
    return re.sub(r"[\s\-._]+", "", code).upper()


def printed_form(number: str, group: int = 4) -> str:
    """The number as printed under the QR: groups separated by spaces."""
    return " ".join(number[i:i + group] for i in range(0, len(number), group))


def manual_lookup(code: str, *, source: Mapping[str, Any], profiles: Profiles | None = None) -> EpuLookup:
    """The lookup a scan would give for the same prescription, built from the typed number
    (only the number is known: patient and prescriber come from ePU). `source.engine` is "manual", or
    PRINTED_CODE_ENGINE for a number read by OCR (the lookup then carries a "vérifiez" warning).

    Raises UserError when the code is not a valid number for any profile that allows manual entry.
    """
    profiles = profiles or default_profiles()
    number = normalise_code(code)
    reasons = []
    for profile in profiles.ordered:
        if not profile.manual:
            continue
        spec = next(f for f in profile.fields if f.name == profile.manual["field"])
        problem = VALIDATORS[spec.validator](number)
        if problem:
            reasons.append(problem)
            continue
        # the typed text is the raw payload (kept as entered); the normalised number is the field
        issues = [PRINTED_CODE_CHECK] if source.get("engine") == PRINTED_CODE_ENGINE else []
        return assemble(code.encode("utf-8"), code, True, profile, {spec.name: number}, issues, source)
    raise UserError(f"{code!r} n'est pas un code d'ordonnance numérique valide "
                    f"({'; '.join(reasons) or 'aucun profil ne permet la saisie manuelle'})")
