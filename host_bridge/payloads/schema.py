"""The EpuLookup type: `docs/schemas/epu-lookup.v1.json` as Python types (a test checks the two agree).

A lookup stays a plain dict (it is JSON on every wire: journal, sinks, API), typed so that mypy checks
every key a module reads or writes. The enums the schema fixes are Literals; the profile loader
checks data files against the same values. No `from __future__ import annotations` here: TypedDict
must see `NotRequired` when the class is made.
"""

from typing import Final, Literal, NotRequired, TypedDict

SCHEMA: Final = "electeur/epu-lookup/1"

Kind = Literal["ordonnance", "apcv", "amc", "ins", "2ddoc", "gs1", "unknown"]
Status = Literal["ok", "warning", "invalid"]
Severity = Literal["warning", "error"]
ActionCode = Literal["consult_prescription", "identify_beneficiary", "check_complementary_rights", "identify_patient",
                     "not_for_this_reader"]
EpuState = Literal["unknown", "available", "dispensed", "partially_dispensed", "cancelled", "unreachable"]


class Action(TypedDict):
    """What the pharmacist should do with the code, and why in words they can read."""

    code: ActionCode
    label: str
    reason: str


class ProfileRef(TypedDict):
    """The profile that classified the payload (`reference`: the project's grammar, not an official one)."""

    kind: str
    version: str
    reference: bool
    origin: str


class Source(TypedDict):
    """Who read the code, with what, when (each may be unknown)."""

    reader: str | None
    read_id: str | None
    engine: str | None
    time: str | None


class Warning(TypedDict):
    """A problem found on the read; `error` makes the lookup invalid."""

    code: str
    severity: Severity
    message: str
    field: NotRequired[str]


Opening = Literal["first_read", "pharmacist", "timer", "identity_change"]


class Session(TypedDict):
    """The counter session the read belongs to, and its place in it (from 1); on its first lookup, why it opened."""

    id: str
    index: int
    opened_by: NotRequired[Opening]


class Refusal(TypedDict):
    """The last « REFUS E-PRESCRIPTION » recorded for a prescription: why and when."""

    reason: str
    at: str


class Epu(TypedDict):
    """The ePU state of an e-prescription when it was looked up (renewals, transmission and refusal: docs/epu.md)."""

    state: EpuState
    endpoint: NotRequired[str]
    checked_at: NotRequired[str]
    detail: NotRequired[str]
    dispensations: NotRequired[int]
    dispensations_allowed: NotRequired[int]
    dispensations_done: NotRequired[int]
    renewal: NotRequired[int]
    transmission: NotRequired[Literal["pending", "transmitted"]]
    pending_since: NotRequired[str]
    refusal: NotRequired[Refusal]


class EpuLookup(TypedDict):
    """One normalised lookup per read of a 2D code."""

    schema: Literal["electeur/epu-lookup/1"]
    id: str
    kind: Kind
    status: Status
    action: Action
    profile: ProfileRef
    fields: dict[str, str]
    text: str
    text_is_utf8: bool
    bytes_b64: str
    source: Source
    warnings: list[Warning]
    session: NotRequired[Session]
    revision: NotRequired[int]
    epu: NotRequired[Epu]
    minimised: NotRequired[Literal[True]]   # a sink's copy without NIR, names, birth date or raw payload
