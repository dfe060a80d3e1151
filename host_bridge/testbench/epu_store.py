"""SQLite state of the ePU sandbox: prescriptions and their dispensations.

The rules the real tele-service enforces and the counter relies on live here:
- a prescription "à renouveler N fois" allows 1 + N dispensations; each one is a cycle that a total
  dispensation closes, or partial ones once every line's quantity is reached; partial quantities count
  per line within the cycle and start again at the next renewal;
- one past the last allowed dispensation is refused, as is any dispensation of a cancelled prescription;
- a refusal ("REFUS E-PRESCRIPTION") needs a reason and changes no state: the prescription is then
  dispensed as a classic paper one;
- a dispensation is transmitted at once, or (`transmit="batch"`) waits, "À transmettre", for the daily
  batch (12:30, after the positive return of the invoice batch). Until then ePU does not know it: the
  QR code stays active, so `state` leaves it out and `pending` gives what the pharmacy recorded.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

SCHEMA = """
CREATE TABLE IF NOT EXISTS prescriptions (
  number TEXT PRIMARY KEY,
  state TEXT NOT NULL CHECK (state IN ('available', 'dispensed', 'partially_dispensed', 'cancelled')),
  detail TEXT NOT NULL,
  created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS dispensations (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  number TEXT NOT NULL REFERENCES prescriptions(number),
  type TEXT NOT NULL CHECK (type IN ('total', 'partial', 'refused')),
  reason TEXT,
  lines TEXT NOT NULL,
  at TEXT NOT NULL
);
"""
TRANSMISSION_TIME = dt.time(12, 30)  # the daily batch (Paris time), after the invoice batch's positive return
PARIS = ZoneInfo("Europe/Paris")


class Refused(Exception):
    """The tele-service refuses the operation; `status` is the HTTP status, `code` a stable reason code."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def next_batch(now: dt.datetime) -> dt.datetime:
    """When the daily transmission runs next after `now` (12:30 Paris time)."""
    local = now.astimezone(PARIS)
    run = local.replace(hour=TRANSMISSION_TIME.hour, minute=TRANSMISSION_TIME.minute, second=0, microsecond=0)
    return run if run > local else (run.replace(tzinfo=None) + dt.timedelta(days=1)).replace(tzinfo=PARIS)


def _matches(given: dict[str, Any], index: int, line: dict[str, Any]) -> bool:
    """A dispensed line belongs to prescription line `index` by its index, text or CIP13."""
    if isinstance(given.get("line"), int):
        return bool(given["line"] == index)
    return any(given.get(key) is not None and given.get(key) == line.get(key) for key in ("text", "cip13"))


def _qty(value: Any) -> int:
    return value if isinstance(value, int) and value > 0 else 0


def progress(detail: dict[str, Any], dispensations: list[dict[str, Any]]) -> dict[str, Any]:
    """Where the prescription stands after `dispensations` (oldest first, refusals included and ignored):
    dispensations allowed and completed, the cycle in progress (0 = first dispensation, n = n-th renewal),
    the quantity left per line in it, and the resulting state."""
    renewals = _qty(detail.get("renewals"))
    lines = [line for line in detail.get("lines") or [] if isinstance(line, dict)]
    allowed, done, in_progress = 1 + renewals, 0, False
    given = [0] * len(lines)
    for disp in dispensations:
        if disp["type"] == "refused":
            continue
        for entry in disp["lines"]:
            for i, line in enumerate(lines):
                if isinstance(entry, dict) and _matches(entry, i, line):
                    given[i] += _qty(entry.get("qty"))
        complete = bool(lines) and all(0 < _qty(line.get("qty")) <= g for g, line in zip(given, lines))  # untracked lines: total only
        if disp["type"] == "total" or complete:
            done, in_progress, given = done + 1, False, [0] * len(lines)
        else:
            in_progress = True
    state = "dispensed" if done >= allowed else "partially_dispensed" if in_progress else "available"
    return {"state": state, "renewals": renewals, "dispensations_allowed": allowed, "dispensations_done": done,
            "renewal": min(done, renewals),
            "remaining": [{**line, "qty": max(0, _qty(line.get("qty")) - g)} for line, g in zip(lines, given)]}


class EpuStore:
    """Prescriptions and dispensations in one SQLite file (":memory:" for a throw-away sandbox)."""

    def __init__(self, path: str | Path) -> None:
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL" if str(path) != ":memory:" else "PRAGMA journal_mode=MEMORY")
        self._db.executescript(SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(dispensations)")}
        if "transmitted_at" not in columns:  # databases made before transmission was modelled: all transmitted
            self._db.execute("ALTER TABLE dispensations ADD COLUMN transmitted_at TEXT")
            self._db.execute("UPDATE dispensations SET transmitted_at = at")
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    def register(self, number: str, detail: dict[str, Any], *, replace: bool = False) -> None:
        """Record a prescription as the prescriber's software would (the sandbox's seed path);
        `detail["renewals"]`: how many times it may be renewed ("à renouveler 3 fois": 3)."""
        with self._lock:
            verb = "INSERT OR REPLACE" if replace else "INSERT"
            try:
                if replace:
                    self._db.execute("DELETE FROM dispensations WHERE number = ?", (number,))
                self._db.execute(f"{verb} INTO prescriptions VALUES (?, 'available', ?, ?)",
                                 (number, json.dumps(detail, ensure_ascii=False), _now()))
            except sqlite3.IntegrityError:
                raise Refused(409, "already_registered", f"prescription {number} is already registered") from None

    def get(self, number: str) -> dict[str, Any]:
        """The prescription as ePU knows it, with every dispensation recorded for it; Refused(404) when
        ePU does not know it. `state` and the counts leave out dispensations not yet transmitted;
        `pending` (only while some wait) is the same with them."""
        row = self._db.execute("SELECT state, detail, created FROM prescriptions WHERE number = ?", (number,)).fetchone()
        if not row:
            raise Refused(404, "unknown", f"prescription {number} is not known to ePU")
        detail = json.loads(row[1])
        disp = [{"type": t, "reason": r, "lines": json.loads(li), "at": at, "transmitted_at": tr}
                for t, r, li, at, tr in self._db.execute(
                    "SELECT type, reason, lines, at, transmitted_at FROM dispensations WHERE number = ? ORDER BY id", (number,))]
        known = progress(detail, [d for d in disp if d["transmitted_at"]])
        out = {"number": number, "created": row[2], **detail, **known, "dispensations": disp}
        if row[0] == "cancelled":
            out["state"] = "cancelled"
        waiting = [d for d in disp if not d["transmitted_at"] and d["type"] != "refused"]
        if waiting:
            out["pending"] = {**progress(detail, disp), "since": waiting[0]["at"]}
        return out

    def dispense(self, number: str, kind: str, *, reason: str | None = None, lines: list[Any] | None = None,
                 transmit: str = "now") -> dict[str, Any]:
        """Record a dispensation (total, partial, refused) and return the prescription, or raise Refused.
        `transmit`: "now", or "batch" to wait for the daily transmission (`transmit_pending`)."""
        if kind not in ("total", "partial", "refused"):
            raise Refused(400, "bad_type", "dispensation type must be total, partial or refused")
        if transmit not in ("now", "batch"):
            raise Refused(400, "bad_transmit", "transmit must be 'now' or 'batch'")
        if kind == "refused" and not (reason or "").strip():
            raise Refused(400, "reason_required", "a refused e-prescription needs a reason")
        with self._lock:
            current = self.get(number)
            if current["state"] == "cancelled":
                raise Refused(410, "cancelled", f"prescription {number} was cancelled by its prescriber")
            recorded = current.get("pending", current)
            if kind != "refused" and recorded["state"] == "dispensed":
                if recorded["renewals"]:
                    raise Refused(409, "renewals_exhausted", f"prescription {number}: the {recorded['dispensations_allowed']} "
                                  f"dispensations it allows (renewable {recorded['renewals']} times) were all made")
                raise Refused(409, "already_dispensed", f"prescription {number} was already dispensed in full")
            at = _now()
            self._db.execute("INSERT INTO dispensations (number, type, reason, lines, at, transmitted_at) VALUES (?, ?, ?, ?, ?, ?)",
                             (number, kind, reason, json.dumps(lines or []), at, at if transmit == "now" else None))
        return self.get(number)

    def transmit_pending(self, until: str | None = None) -> int:
        """The daily batch: transmit the dispensations recorded up to `until` (ISO time, default now)."""
        with self._lock:
            cur = self._db.execute("UPDATE dispensations SET transmitted_at = ? WHERE transmitted_at IS NULL AND at <= ?",
                                   (_now(), until or _now()))
        return cur.rowcount

    def cancel(self, number: str) -> dict[str, Any]:
        """The prescriber cancels the prescription (only while nothing was dispensed)."""
        with self._lock:
            current = self.get(number)
            recorded = current.get("pending", current)
            if current["state"] == "cancelled" or recorded["state"] != "available" or recorded["dispensations_done"]:
                raise Refused(409, current["state"], f"prescription {number} is {current['state']}; it can no longer be cancelled")
            self._db.execute("UPDATE prescriptions SET state = 'cancelled' WHERE number = ?", (number,))
        return self.get(number)
