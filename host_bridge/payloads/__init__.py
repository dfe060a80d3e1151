"""From payload bytes to an EpuLookup: profiles (data), validators, parsers.

Public interface: `build_lookup`, `Profiles`, `SCHEMA` (see docs/payloads.md).
"""

from host_bridge.payloads.lookup import SCHEMA, build_lookup, lookup_id, now_source, redacted
from host_bridge.payloads.profiles import Profiles, default_profiles

__all__ = ["SCHEMA", "Profiles", "build_lookup", "default_profiles", "lookup_id", "now_source", "redacted"]
