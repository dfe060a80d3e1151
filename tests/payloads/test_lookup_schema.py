"""The EpuLookup type (host_bridge/payloads/schema.py) and docs/schemas/epu-lookup.v1.json say the same thing:
same field names, same required keys, same types and enum values, at every level."""

from __future__ import annotations

import json
import types
import typing

import pytest

from conftest import REPO
from host_bridge.payloads import profiles
from host_bridge.payloads.schema import SCHEMA, EpuLookup

JSON_SCHEMA = json.loads((REPO / "docs/schemas/epu-lookup.v1.json").read_text())
SCALARS = {"string": str, "boolean": bool, "integer": int, "null": type(None)}


def is_typeddict(hint: object) -> bool:
    return isinstance(hint, type) and typing.is_typeddict(hint)


def disagreements(schema: dict, hint: object, path: str) -> list[str]:
    """Every place where the JSON schema `schema` and the Python type `hint` differ, as readable lines."""
    if "const" in schema or "enum" in schema:
        values = {schema["const"]} if "const" in schema else set(schema["enum"])
        if typing.get_origin(hint) is not typing.Literal or set(typing.get_args(hint)) != values:
            return [f"{path}: schema allows {sorted(values)}, type says {hint}"]
        return []
    kind = schema.get("type")
    if kind == "object" and "properties" in schema:
        if not is_typeddict(hint):
            return [f"{path}: schema has an object with properties, type says {hint}"]
        hints = typing.get_type_hints(hint)
        out = []
        if set(hints) != set(schema["properties"]):
            out.append(f"{path}: fields {sorted(schema['properties'])} in the schema, {sorted(hints)} in the type")
        if set(hint.__required_keys__) != set(schema.get("required", [])):
            out.append(f"{path}: required {sorted(schema.get('required', []))} in the schema, "
                       f"{sorted(hint.__required_keys__)} in the type")
        if schema.get("additionalProperties") is not False:
            out.append(f"{path}: the schema should refuse other properties, as a TypedDict does")
        for name in set(hints) & set(schema["properties"]):
            out += disagreements(schema["properties"][name], hints[name], f"{path}.{name}")
        return out
    if kind == "object":  # a map: {"additionalProperties": {...}}
        if typing.get_origin(hint) is not dict or typing.get_args(hint)[0] is not str:
            return [f"{path}: schema has a map, type says {hint}"]
        return disagreements(schema["additionalProperties"], typing.get_args(hint)[1], f"{path}[]")
    if kind == "array":
        if typing.get_origin(hint) is not list:
            return [f"{path}: schema has an array, type says {hint}"]
        return disagreements(schema["items"], typing.get_args(hint)[0], f"{path}[]")
    wanted = {SCALARS[k] for k in ([kind] if isinstance(kind, str) else kind)}
    got = set(typing.get_args(hint)) if isinstance(hint, types.UnionType) else {hint}
    return [] if wanted == got else [f"{path}: schema says {kind}, type says {hint}"]


def test_the_lookup_type_and_the_json_schema_agree_everywhere() -> None:
    assert disagreements(JSON_SCHEMA, EpuLookup, "lookup") == []
    assert JSON_SCHEMA["properties"]["schema"]["const"] == SCHEMA


@pytest.mark.parametrize("change,expected", [
    (lambda s: s["properties"]["source"]["required"].remove("time"), "lookup.source: required"),
    (lambda s: s["properties"].pop("revision"), "lookup: fields"),
    (lambda s: s["properties"]["status"]["enum"].append("maybe"), "lookup.status: schema allows"),
    (lambda s: s["properties"]["warnings"]["items"]["properties"]["field"].update(type="integer"),
     "lookup.warnings[].field: schema says integer"),
])
def test_the_check_sees_a_schema_that_drifted(change, expected) -> None:
    drifted = json.loads(json.dumps(JSON_SCHEMA))
    change(drifted)
    found = disagreements(drifted, EpuLookup, "lookup")
    assert found and found[0].startswith(expected), found


def test_profile_files_are_checked_against_the_types_enums() -> None:
    assert profiles.KINDS == typing.get_args(typing.get_type_hints(EpuLookup)["kind"])
    action = typing.get_type_hints(typing.get_type_hints(EpuLookup)["action"])
    assert profiles.ACTIONS == typing.get_args(action["code"])
