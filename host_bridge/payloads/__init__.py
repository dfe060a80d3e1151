"""From payload bytes to an EpuLookup: profiles (data), validators, counter sessions.

Public interface: `build_lookup`, `CounterSession`, `Profiles`, `SCHEMA` (see docs/payloads.md).
"""

from host_bridge.payloads.lookup import SCHEMA, build_lookup, lookup_id, now_source, redacted
from host_bridge.payloads.profiles import Profiles, default_profiles
from host_bridge.payloads.session import CounterSession

__all__ = ["SCHEMA", "CounterSession", "Profiles", "build_lookup", "default_profiles", "lookup_id", "now_source", "redacted"]
