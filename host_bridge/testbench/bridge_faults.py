"""Fault scenarios against the running bridge, each counting reads lost and duplicated per sink and
recording what the pharmacist sees (API health, log lines, the lookups the counter page shows).

    bridge_killed   SIGKILL at random moments, restart on the same journal
    journal_full    the journal's files may not grow (RLIMIT_FSIZE on the bridge process), then may again
    sinks_down      webhook answering 500 then refusing connections, mosquitto stopped, then both back
    epu_faults      the ePU sandbox slow, then answering 500, then stopped, then back

Each returns a dict of figures (`tools/reliability.py faults` prints them; the tests assert on them).
A "re-sent copy" is a delivery of a key the sink already had (at-least-once delivery after a crash):
the receiver drops it by its Idempotency-Key (MQTT: the lookup id and revision); "duplicates" are
deliveries left after that, which must be 0, like "lost".
"""

from __future__ import annotations

import contextlib
import random
import re
import resource
import sqlite3
import time
from pathlib import Path
from typing import Any

from host_bridge.bridge.sinks import idempotency_key
from host_bridge.testbench.fault_rig import (Bridge, Broker, Reader, Sandbox, Subscriber, WebhookReceiver,
                                            free_port, wait_until)


def sinks_config(receiver: WebhookReceiver | None, broker: Broker | None, *, epu_url: str | None = None,
                 retry: tuple[float, float] = (0.05, 1.0)) -> str:
    """The bridge's TOML for these sinks; back-off compressed so a minutes-long outage fits in seconds."""
    lines = ["[sinks]", f"retry_first_s = {retry[0]}", f"retry_max_s = {retry[1]}"]
    if receiver:
        lines.append(f'webhook = [{{url = "{receiver.url}"}}]')
    if broker:
        lines.append(f'mqtt = {{host = "127.0.0.1", port = {broker.port}}}')
    lines += ["[epu]", f'url = "{epu_url}"\ntimeout_s = 1' if epu_url else "enabled = false"]
    return "\n".join(lines) + "\n"


def reader_seq(lookup: dict[str, Any]) -> int:
    return int(str(lookup["source"]["read_id"]).split("-")[0])


def out_of_order(deliveries: list[dict[str, Any]]) -> int:
    """First deliveries of a lookup made after a later read of the same reader (re-sent copies and revisions
    excluded: they come later by design)."""
    last: dict[str, int] = {}
    seen: set[str] = set()
    bad = 0
    for lookup in deliveries:
        if "revision" in lookup or lookup["id"] in seen:
            continue
        seen.add(lookup["id"])
        reader, seq = lookup["source"]["reader"], reader_seq(lookup)
        bad += seq < last.get(reader, -1)
        last[reader] = max(seq, last.get(reader, -1))
    return bad


def tally(payloads: list[bytes], bridge: Bridge, sinks: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Reads lost or duplicated in the journal, and per sink: final versions delivered, lost, re-sent copies,
    duplicates after de-duplication by key, deliveries out of reader order."""
    lookups = bridge.lookups()
    texts = [lk["text"] for lk in lookups]
    fig: dict[str, Any] = {"reads sent": len(payloads), "journaled": len(lookups),
                           "lost": len({p.decode() for p in payloads} - set(texts)),
                           "duplicates in journal": len(texts) - len(set(texts))}
    final = {idempotency_key(lk) for lk in lookups}
    for name, got in sinks.items():
        keys = [idempotency_key(lk) for lk in got]
        fig[f"{name}: delivered"] = len(final & set(keys))
        fig[f"{name}: lost"] = len(final - set(keys))
        fig[f"{name}: re-sent copies (dropped by key)"] = len(keys) - len(set(keys))
        fig[f"{name}: duplicates"] = 0   # what remains once the key drops re-sent copies (by construction)
        fig[f"{name}: out of reader order"] = out_of_order(got)
    return fig


def drained(bridge: Bridge, count: int) -> bool:
    health = bridge.health()
    return health["lookups"] >= count and all(s["pending"] == 0 for s in health["sinks"].values())


def saw(bridge: Bridge) -> str:
    """What the pharmacist sees right now: the API health (the page's banner) or no API at all."""
    health = bridge.get("/api/health")
    if health is None:
        return "page 'hors ligne', API not answering"
    problems = "; ".join(f"{p['code']}: {p['message']}" for p in health["problems"])
    return f"status {health['status']}, {health['lookups']} reads listed" + (f" — {problems}" if problems else "")


def bridge_killed(workdir: Path, *, seed: int, reads: int = 40, kills: int = 3, show_ms: int = 40) -> dict[str, Any]:
    """SIGKILL the bridge `kills` times at random moments while reads flow, restart it on the same journal.
    Where a kill landed shows afterwards: reads the reader had to resend (killed before the journal commit,
    or sent while no bridge listened), reads resent although journaled (killed between commit and ACK),
    lookups journaled but not yet taken by the webhook, re-sent copies (killed between handing a lookup to a
    sink and recording it)."""
    rng = random.Random(seed)
    payloads = [f"KILL-{seed}-{n:03d}".encode() for n in range(reads)]
    receiver, broker = WebhookReceiver().start(), Broker(workdir).start()
    subscriber = Subscriber(broker.port)
    reader = Reader(workdir, payloads, show_ms)
    config = sinks_config(receiver, broker)
    bridges = [Bridge(workdir, reader.device, config)]
    during: list[str] = []
    backlog: list[int] = []        # per kill: lookups journaled but not yet taken by the webhook
    try:
        for _ in range(kills):
            time.sleep(rng.uniform(0.1, 1.2))
            bridges[-1].kill()
            during.append(saw(bridges[-1]))
            backlog.append(journaled(bridges[-1].journal) - len({key for key, _ in receiver.accepted}))
            time.sleep(rng.uniform(0.0, 0.5))
            bridges.append(Bridge(workdir, reader.device, config, port=bridges[-1].port))
        wait_until(lambda: drained(bridges[-1], reads) and len(subscriber.messages) >= reads, 120, "every read delivered")
        time.sleep(0.5)                                  # a late re-sent copy would show up now
        fig = tally(payloads, bridges[-1], {"webhook": [lk for _, lk in receiver.accepted], "mqtt": subscriber.messages})
        fig["kills"] = kills
        fig["kills with lookups journaled, not yet delivered"] = sum(n > 0 for n in backlog)
        fig["reads resent by the reader, then journaled"] = sum(len(b.grep(r"new lookup .* \(resent\)")) for b in bridges)
        fig["reads journaled, ACK lost in a kill (resent, kept once)"] = sum(len(b.grep(r"repeated lookup")) for b in bridges)
        fig["saw during"] = during[0]
        fig["saw after"] = saw(bridges[-1])
    finally:
        for proc in (*bridges, reader):
            proc.stop()
        subscriber.close()
        broker.stop()
        receiver.stop()
    return fig


def journal_files(journal: Path) -> list[Path]:
    return [p for p in (journal, journal.with_name(journal.name + "-wal")) if p.exists()]


def journaled(journal: Path) -> int:
    """Lookups in a dead bridge's journal (read-only; the WAL holds what the last commits wrote)."""
    with contextlib.closing(sqlite3.connect(f"file:{journal}?mode=ro", uri=True)) as db:
        return db.execute("SELECT COUNT(*) FROM lookups").fetchone()[0]


def journal_full(workdir: Path, *, reads: int = 30, hold_s: float = 3.0, show_ms: int = 150) -> dict[str, Any]:
    """Stop the journal's files from growing (the disk is full) a third of the way through, for `hold_s`
    seconds after the bridge noticed, then free the space; the bridge must not ACK what it could not journal."""
    payloads = [f"FULL-{n:03d}".encode() for n in range(reads)]
    receiver = WebhookReceiver().start()
    reader = Reader(workdir, payloads, show_ms)
    bridge = Bridge(workdir, reader.device, sinks_config(receiver, None))
    unlimited = (resource.RLIM_INFINITY, resource.RLIM_INFINITY)
    try:
        wait_until(lambda: bridge.health()["lookups"] >= reads // 3, 60, "the first reads")
        largest = max(p.stat().st_size for p in journal_files(bridge.journal))   # no file of it may grow
        resource.prlimit(bridge.proc.pid, resource.RLIMIT_FSIZE, (largest, resource.RLIM_INFINITY))
        wait_until(lambda: any(p["code"] == "journal_unwritable" for p in bridge.health()["problems"]), 30,
                   "the bridge to notice the full journal")
        at_full = bridge.health()["lookups"]
        during = saw(bridge)
        time.sleep(hold_s)
        held = bridge.health()["lookups"]
        resource.prlimit(bridge.proc.pid, resource.RLIMIT_FSIZE, unlimited)
        wait_until(lambda: drained(bridge, reads) and not bridge.health()["problems"], 60, "recovery")
        fig = tally(payloads, bridge, {"webhook": [lk for _, lk in receiver.accepted]})
        fig["reads journaled while full"] = held - at_full
        fig["log"] = [re.sub(r"^\S+ \S+ ", "", line) for line in bridge.grep(r"PROBLEM journal|RESOLVED journal")]
        fig["saw during"] = during
        fig["saw after"] = saw(bridge)
    finally:
        bridge.stop()
        reader.stop()
        receiver.stop()
    return fig


def sinks_down(workdir: Path, *, reads: int = 40, outage_s: float = 6.0, retry: tuple[float, float] = (0.05, 0.8),
               show_ms: int = 150) -> dict[str, Any]:
    """Webhook answering 500, then refusing connections, and mosquitto stopped, for the rest of the reads plus
    `outage_s` (many times the back-off cap: minutes of outage at the default 30 s cap); then both back."""
    payloads = [f"DOWN-{n:03d}".encode() for n in range(reads)]
    receiver, broker = WebhookReceiver().start(), Broker(workdir).start()
    subscriber = Subscriber(broker.port)
    reader = Reader(workdir, payloads, show_ms)
    bridge = Bridge(workdir, reader.device, sinks_config(receiver, broker, retry=retry))
    try:
        wait_until(lambda: len(receiver.accepted) >= 3 and len(subscriber.messages) >= 3, 60, "first deliveries")
        receiver.mode = "error"
        broker.stop()
        wait_until(lambda: bridge.health()["lookups"] >= reads // 2, 60, "reads during the outage")
        receiver.stop()                                                  # now connections are refused
        wait_until(lambda: bridge.health()["lookups"] >= reads, 60, "every read journaled")
        size_mid = sum(p.stat().st_size for p in journal_files(bridge.journal))
        time.sleep(outage_s)
        health = bridge.health()
        during = saw(bridge)
        listed = len(bridge.get(f"/api/lookups?last={reads}")["lookups"])
        size_end = sum(p.stat().st_size for p in journal_files(bridge.journal))
        receiver.mode = "ok"
        receiver.start()
        broker.start()
        wait_until(lambda: drained(bridge, reads) and len(subscriber.messages) >= reads, 60, "delivery after the outage")
        time.sleep(0.5)
        fig = tally(payloads, bridge, {"webhook": [lk for _, lk in receiver.accepted], "mqtt": subscriber.messages})
        delays = [float(d) for d in re.findall(r"retrying lookup \S+ in ([\d.]+) s", "\n".join(bridge.lines))]
        fig["pending at the end of the outage"] = {name: s["pending"] for name, s in health["sinks"].items()}
        fig["webhook 500 answers"] = receiver.refused
        fig["retries (both sinks)"] = len(delays)
        fig["longest back-off (s)"] = max(delays, default=0)
        fig["journal + WAL bytes: reads in / outage end"] = f"{size_mid} / {size_end}"   # retries write nothing
        fig["reads listed for the page during the outage"] = listed
        fig["saw during"] = during
        fig["saw after"] = saw(bridge)
    finally:
        for proc in (bridge, reader):
            proc.stop()
        subscriber.close()
        broker.stop()
        receiver.stop()
    return fig


EPU_FAULTS = {"timed out": (r"timed out", ("--delay-s", "3")), "HTTP 500": (r"fail with 500", ("--fail-status", "500")),
              "refused": (r"[Rr]efused", None)}     # phase: (pattern of the lookup's epu.detail, sandbox options or stopped)


def unreachable(bridge: Bridge, pattern: str = "") -> int:
    return sum(lk.get("epu", {}).get("state") == "unreachable" and bool(re.search(pattern, lk["epu"].get("detail", "")))
               for lk in bridge.lookups())


def epu_faults(workdir: Path, *, per_phase: int = 3, show_ms: int = 600) -> dict[str, Any]:
    """E-prescriptions read while the ePU sandbox answers after 3 s (client timeout 1 s), then answers 500,
    then is stopped (connection refused), `per_phase` reads at least each, then runs normally: every read
    is journaled at once with 'ePU unreachable', and completed (revised) once ePU answers."""
    from host_bridge.testbench.epu_store import EpuStore
    from host_bridge.testbench.samples.content import ordonnance

    rng = random.Random(8)
    contents = [ordonnance(rng) for _ in range(6 * per_phase + 4)]    # margin: a slow phase's backlog goes to the next
    store = EpuStore(workdir / "epu.sqlite")
    for c in contents:
        store.register(c.fields["prescription_number"], {"lines": [{"text": "PARACETAMOL 1 g cp", "qty": 2}]})
    store.close()
    payloads = [c.payload for c in contents]
    port = free_port()
    receiver = WebhookReceiver().start()
    sandbox: Sandbox | None = None
    reader: Reader | None = None
    bridge: Bridge | None = None
    seen: dict[str, str] = {}
    try:
        for why, (pattern, options) in EPU_FAULTS.items():
            if reader:
                reader.pause()              # no reads while the sandbox restarts: each read meets one fault
            if sandbox:
                sandbox.stop()
            sandbox = Sandbox(workdir, port, *options) if options else None
            if reader:
                reader.pause(False)
            else:
                reader = Reader(workdir, payloads, show_ms)
                bridge = Bridge(workdir, reader.device, sinks_config(receiver, None, epu_url=f"http://127.0.0.1:{port}"))
            wait_until(lambda: unreachable(bridge, pattern) >= per_phase, 90, f"{per_phase} reads with ePU {why}")
            seen[why] = saw(bridge)
        card = bridge.lookups()[-1]
        sandbox = Sandbox(workdir, port)
        wait_until(lambda: bridge.health()["lookups"] >= len(payloads) and not unreachable(bridge)
                   and drained(bridge, len(payloads)), 90, "ePU completion")
        lookups = bridge.lookups()
        fig = tally(payloads, bridge, {"webhook": [lk for _, lk in receiver.accepted]})
        first = [lk["epu"].get("detail", "") for _, lk in receiver.accepted
                 if "revision" not in lk and lk["epu"]["state"] == "unreachable"]
        causes = {why: sum(bool(re.search(pattern, d)) for d in first) for why, (pattern, _) in EPU_FAULTS.items()}
        fig["ePU unreachable when read"] = {**causes, "other (sandbox restarting)": len(first) - sum(causes.values())}
        fig["completed when ePU returned"] = sum(lk.get("revision", 1) > 1 for lk in lookups)
        fig["final ePU states"] = sorted({lk["epu"]["state"] for lk in lookups})
        fig["card while down"] = f"status {card['status']}, ePU {card['epu']['state']}: " + \
            "; ".join(w["message"] for w in card["warnings"])
        fig["saw during"] = seen
        fig["saw after"] = saw(bridge)
    finally:
        for proc in (bridge, reader, sandbox):
            if proc:
                proc.stop()
        receiver.stop()
    return fig
