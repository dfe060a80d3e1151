"""Problems found on a read and the status they give its lookup.

The bottom of the lookup layers (imports only the lookup's type, `schema.py`): the parsers, the counter session and
the ePU client all report through `Issue`, and one rule, `status_of`, turns the issues into a status.
"""

from __future__ import annotations

from dataclasses import dataclass
from host_bridge.payloads.schema import EpuLookup, Kind, Severity, Status, Warning


@dataclass
class Issue:
    """A problem found on a read: `error` makes the lookup invalid, `warning` flags it."""

    code: str
    message: str
    severity: Severity = "warning"
    field: str | None = None

    def as_dict(self) -> Warning:
        out: Warning = {"code": self.code, "severity": self.severity, "message": self.message}
        if self.field:
            out["field"] = self.field
        return out


def status_of(kind: Kind, issues: list[Warning]) -> Status:
    """`invalid` for an unrecognised code or any error, `warning` if any warning, else `ok`."""
    severities = {i["severity"] for i in issues}
    return "invalid" if kind == "unknown" or "error" in severities else "warning" if severities else "ok"


def add_issue(lookup: EpuLookup, issue: Issue) -> None:
    """Attach a problem found after parsing (session, ePU) and update the status."""
    lookup["warnings"].append(issue.as_dict())
    lookup["status"] = status_of(lookup["kind"], lookup["warnings"])
