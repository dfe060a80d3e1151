"""Keep health identifiers out of log files.

Logs are read by support staff and shipped around; the journal is the only place a
patient's NIR, name or birth date may live. A logging filter rewrites every record:
NIR-shaped numbers and dates are masked, and so are values of name/birth/NIR fields in
JSON-ish text and any value the bridge registered as sensitive (the names it parsed).
The config's `log_identifiers = true` turns this off for a debugging session.
"""

from __future__ import annotations

import logging
import re
from collections import deque

MASK = "<redacted>"
# NIR: sex digit, year, month, department (2A/2B for Corsica), commune, order, optional key; spaces allowed.
_NIR = re.compile(r"(?<![0-9A-Za-z])[12478]\s?\d{2}\s?(?:0[1-9]|1[0-2]|[2-9]\d)\s?(?:\d{2}|2[AB])\s?\d{3}\s?\d{3}(?:\s?\d{2})?(?!\d)")
_DATE = re.compile(r"(?<!\d)(?:\d{2}[/.-]\d{2}[/.-]\d{4}|\d{4}-\d{2}-\d{2}(?!T\d))(?!\d)")  # ISO timestamps are not birth dates
SENSITIVE_KEY = r"[\w-]*(?:name|nom|prenom|birth|naissance|nir|ins_number|member_number|token)[\w-]*"
_KEYED = re.compile(r"""(["']?""" + SENSITIVE_KEY + r"""["']?\s*[:=]\s*)(?:"[^"]*"|'[^']*'|[^\s,;}]+)""", re.I)


class Redactor:
    """Masks identifiers in text; remembers up to `memory` recently seen sensitive values."""

    def __init__(self, memory: int = 512) -> None:
        self._values: deque[str] = deque(maxlen=memory)

    def remember(self, *values: str) -> None:
        """Values that must never appear in logs (e.g. the names parsed from a read)."""
        for v in values:
            if isinstance(v, str) and len(v) >= 3 and v not in self._values:
                self._values.append(v)

    def remember_lookup(self, lookup: dict) -> None:
        """Register the identifying fields of a lookup (names, birth dates, numbers) and its raw text."""
        fields = lookup.get("fields") or {}
        self.remember(*(v for k, v in fields.items() if re.fullmatch(SENSITIVE_KEY, k, re.I)))
        self.remember(lookup.get("text") or "")

    def __call__(self, text: str) -> str:
        for v in sorted(self._values, key=len, reverse=True):
            if v in text:
                text = text.replace(v, MASK)
        text = _KEYED.sub(lambda m: m.group(1) + MASK, text)
        text = _NIR.sub(MASK, text)
        return _DATE.sub(MASK, text)


class RedactingFilter(logging.Filter):
    """Logging filter that replaces a record's message with its redacted rendering."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redactor(record.getMessage())
        record.args = None
        if record.exc_info:         # a traceback quotes the exception's message, which may hold a payload
            record.exc_text = self.redactor(_FORMAT.formatException(record.exc_info))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = self.redactor(record.exc_text)
        return True


_FORMAT = logging.Formatter()


def install(logger: logging.Logger, redactor: Redactor, *, allow_identifiers: bool = False) -> None:
    """Attach the filter to every handler of `logger` (filters on handlers also see child loggers' records)."""
    if allow_identifiers:
        return
    for handler in logger.handlers:
        handler.addFilter(RedactingFilter(redactor))
