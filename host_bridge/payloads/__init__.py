"""From payload bytes to an EpuLookup: profiles (data), validators, parsers.

Public interface: `build_lookup`, `Profiles`, `SCHEMA`, `EpuLookup` (see docs/payloads.md).
"""

from host_bridge.payloads.lookup import build_lookup, lookup_id, now_source, redacted
from host_bridge.payloads.profiles import Profiles, default_profiles
from host_bridge.payloads.schema import SCHEMA, EpuLookup

__all__ = ["SCHEMA", "EpuLookup", "Profiles", "build_lookup", "default_profiles", "lookup_id", "now_source", "redacted"]
