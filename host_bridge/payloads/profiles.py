"""Payload profiles: one TOML file per kind, so a grammar is data, not code.

The package ships reference profiles (`host_bridge/profiles/*.toml`). An integrator who
holds an official specification drops a file in a profiles directory (argument, or the
ELECTEUR_PROFILES_DIR environment variable): a file there adds a kind or replaces the
built-in profile of the same kind, with no code change. Format described in docs/payloads.md.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, cast, get_args

from host_bridge.errors import UserError
from host_bridge.payloads.schema import Action, ActionCode, Kind, Severity
from host_bridge.payloads.validators import VALIDATORS

PROFILE_FORMAT = 1
KINDS: tuple[Kind, ...] = get_args(Kind)               # the lookup schema's enums: a profile file can name no other
ACTIONS: tuple[ActionCode, ...] = get_args(ActionCode)
GRAMMARS = ("delimited", "di_fields", "gs1", "jws", "none")
ENV_DIR = "ELECTEUR_PROFILES_DIR"


@dataclass(frozen=True)
class FieldSpec:
    """One field of a payload: where it sits (per grammar) and how it is checked."""

    name: str
    label: str
    validator: str = "text"
    required: bool = True
    severity: Severity = "error"     # a failed check makes the lookup 'invalid' (error) or 'warning'
    sensitive: bool = False          # redacted in logs (health identifiers)
    pattern: str | None = None
    normalise: str | None = None     # "upper" | "strip"
    to_iso: str | None = None        # strptime format turned into YYYY-MM-DD once valid
    check: str | None = None         # "valid_on_read" | "not_expired" (against the read's date)
    di: str | None = None            # di_fields: data identifier
    length: int | None = None        # di_fields: fixed length
    max: int | None = None           # di_fields: maximum length of a variable field
    header: str | None = None        # di_fields with a 2D-Doc header: header field name
    ai: str | None = None            # gs1: application identifier
    claim: str | None = None         # jws: claim name
    whole: bool = False              # the whole payload text (opaque tokens)


@dataclass(frozen=True)
class Profile:
    """A payload kind: recognition rule, grammar, fields and the action its lookup asks for."""

    kind: Kind
    title: str
    version: str
    reference: bool
    priority: int
    description: str
    origin: str
    match: dict[str, Any]
    grammar: dict[str, Any]
    action: Action
    fields: tuple[FieldSpec, ...]
    manual: dict[str, Any] = field(default_factory=dict)

    def matches(self, text: str) -> bool:
        """Does this profile claim the payload (before parsing it)?"""
        prefixes = self.match.get("prefix", [])
        if prefixes and not any(text.startswith(p) for p in prefixes):
            return False
        regex = self.match.get("regex")
        if regex and not re.match(regex, text, re.S):
            return False
        return bool(prefixes or regex)


def _fail(origin: str, message: str) -> UserError:
    return UserError(f"profile {origin}: {message}")


def parse_profile(doc: dict[str, Any], origin: str) -> Profile:
    """Build a Profile from a parsed TOML document, with an error naming the file and the problem."""
    if doc.get("format") != PROFILE_FORMAT:
        raise _fail(origin, f"'format' must be {PROFILE_FORMAT}")
    for key in ("kind", "title", "version", "action"):
        if key not in doc:
            raise _fail(origin, f"missing '{key}'")
    if doc["kind"] not in KINDS:
        raise _fail(origin, f"kind {doc['kind']!r} is not one of {', '.join(KINDS)}")
    action = doc["action"]
    if action.get("code") not in ACTIONS or not action.get("label") or not action.get("reason"):
        raise _fail(origin, f"[action] needs code (one of {', '.join(ACTIONS)}), label and reason")
    grammar = doc.get("grammar", {"type": "none"})
    if grammar.get("type") not in GRAMMARS:
        raise _fail(origin, f"grammar type must be one of {', '.join(GRAMMARS)}")
    specs = []
    allowed = set(FieldSpec.__dataclass_fields__)
    for raw in doc.get("fields", []):
        unknown = set(raw) - allowed
        if unknown or "name" not in raw:
            raise _fail(origin, f"field {raw.get('name', '?')!r}: unknown keys {sorted(unknown)} or no name")
        spec = FieldSpec(**{"label": raw["name"], **raw})
        if spec.validator not in VALIDATORS:
            raise _fail(origin, f"field {spec.name!r}: validator {spec.validator!r} is not one of {', '.join(VALIDATORS)}")
        if spec.severity not in ("error", "warning"):
            raise _fail(origin, f"field {spec.name!r}: severity must be 'error' or 'warning'")
        if spec.pattern:
            try:
                re.compile(spec.pattern)
            except re.error as exc:
                raise _fail(origin, f"field {spec.name!r}: bad pattern ({exc})") from None
        specs.append(spec)
    if grammar.get("identifiers"):
        declared = {spec.di for spec in specs if spec.di}
        specs += [spec for spec in _identifier_table(str(grammar["identifiers"]), origin) if spec.di not in declared]
    manual = doc.get("manual", {})
    if manual and manual.get("field") not in {s.name for s in specs}:
        raise _fail(origin, "[manual] field must name one of the profile's fields")
    match = doc.get("match", {})
    if doc["kind"] != "unknown" and not (match.get("prefix") or match.get("regex")):
        raise _fail(origin, "[match] needs 'prefix' (list) or 'regex'")
    return Profile(kind=cast(Kind, doc["kind"]), title=doc["title"], version=str(doc["version"]),
                   reference=bool(doc.get("reference", False)), priority=int(doc.get("priority", 50)),
                   description=doc.get("description", ""), origin=origin, match=match, grammar=grammar,
                   action={"code": cast(ActionCode, action["code"]), "label": str(action["label"]),
                           "reason": str(action["reason"])},
                   fields=tuple(specs), manual=manual)


_TABLE_ROW = re.compile(r"([0-9A-Z]{2})\t([0-9]+)\t([0-9]*)\t(.+)")


def _identifier_table(name: str, origin: str) -> list[FieldSpec]:
    """Fields from a data-identifier table (TSV: identifier, min, max or empty, label) next to the profile.

    They are optional, sensitive (a 2D-Doc carries names, addresses, birth dates) and named `di_<identifier>`."""
    try:
        if origin.startswith("builtin:"):
            text = (resources.files("host_bridge.profiles") / name).read_text("utf-8")
        else:
            text = (Path(origin).parent / name).read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise _fail(origin, f"identifier table {name}: {exc}") from None
    specs = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        row = _TABLE_ROW.fullmatch(line)
        if row is None:
            raise _fail(origin, f"identifier table {name} line {n}: identifier, min, max, label separated by tabs expected")
        di, low, high, label = row.groups()
        fixed = high == low
        specs.append(FieldSpec(name=f"di_{di}", label=label, required=False, severity="warning", sensitive=True, di=di,
                               length=int(low) if fixed else None, max=int(high) if high and not fixed else None))
    return specs


def _read(path_name: str, data: bytes) -> Profile:
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise _fail(path_name, f"not valid TOML ({exc})") from None
    return parse_profile(doc, path_name)


class Profiles:
    """The profiles in force: built-in ones, then a directory's files replacing or adding kinds."""

    def __init__(self, profiles_dir: str | os.PathLike[str] | None = None) -> None:
        by_kind: dict[str, Profile] = {}
        for entry in sorted(resources.files("host_bridge.profiles").iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".toml"):
                p = _read(f"builtin:{entry.name}", entry.read_bytes())
                by_kind[p.kind] = p
        directory = profiles_dir if profiles_dir is not None else os.environ.get(ENV_DIR)
        if directory:
            path = Path(directory)
            if not path.is_dir():
                raise UserError(f"profiles directory {path} does not exist (from {'argument' if profiles_dir else ENV_DIR})")
            for file in sorted(path.glob("*.toml")):
                p = _read(str(file), file.read_bytes())
                by_kind[p.kind] = p
        self.by_kind = by_kind
        self.ordered = sorted((p for p in by_kind.values() if p.kind != "unknown"), key=lambda p: (p.priority, p.kind))

    def __getitem__(self, kind: str) -> Profile:
        return self.by_kind[kind]

    def recognise(self, text: str) -> Profile | None:
        """The first profile (by priority) whose match rule claims the payload."""
        return next((p for p in self.ordered if p.matches(text)), None)


_DEFAULT: dict[str | None, Profiles] = {}


def default_profiles() -> Profiles:
    """Profiles from the package plus ELECTEUR_PROFILES_DIR, loaded once per directory."""
    key = os.environ.get(ENV_DIR)
    if key not in _DEFAULT:
        _DEFAULT[key] = Profiles()
    return _DEFAULT[key]
