"""The issue's must-show: after an end-to-end run — generated samples carrying NIRs, names and birth dates
shown to the virtual reader (`electeur sim --pty`, real firmware, framed protocol) → `electeur run` with the
stdout sink and the ePU sandbox — the bridge's log, the raw bytes of its SQLite journal (db, -wal, -shm),
the reader's and the ePU sandbox's logs hold none of those identifiers in clear. With the config's explicit
`log_identifiers = true` the journal holds them in clear: the switch works both ways, and the grep is known
to find what it looks for. The stdout sink (a data output, by design) carries them in both runs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from host_bridge.cli import main
from tests.bridge.test_bridge_run import call, free_port
from tests.bridge.test_bridge_sim_e2e import stop, wait_until
from tests.bridge.test_redaction_e2e import IDENTIFYING, _variants

TOKEN = "health-data-token-0123456789"


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, set[str]]:
    """Generated codes of every kind, an ePU sandbox database knowing their prescriptions, the identifiers."""
    out = tmp_path_factory.mktemp("health")
    images, epu_db = out / "images", out / "epu.sqlite"
    assert main(["samples", "--out", str(images), "--count", "12", "--seed", "3", "--seed-epu", str(epu_db)]) == 0
    secrets = {v for e in json.loads((images / "manifest.json").read_text()) for field, value in e["fields"].items()
               if value and any(k in field for k in IDENTIFYING) for v in _variants(field, value)}
    assert len(secrets) >= 10
    return images, epu_db, secrets


def spawn(tmp_path: Path, name: str, *args: str, stdout=subprocess.DEVNULL) -> subprocess.Popen:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_DATA_HOME": str(tmp_path / "data")}
    return subprocess.Popen([sys.executable, "-m", "host_bridge.cli", *args], stdout=stdout, text=True, env=env,
                            stderr=(tmp_path / f"{name}.log").open("w"))


def settled_count(port: int, token: str, last: list[int], at_least: int) -> bool:
    """At least `at_least` reads arrived, the count did not move for 3 s (polled every 0.1 s), and every sink
    has delivered them all."""
    try:
        health = call(port, "/api/health", token)[1]
    except OSError:  # not listening yet
        return False
    last.append(health["lookups"])
    return len(last) > 30 and last[-1] >= at_least and last[-1] == last[-31] and \
        all(s["pending"] == 0 for s in health["sinks"].values())


def run_bridge(tmp_path: Path, images: Path, epu_db: Path, allow: bool) -> tuple[dict[str, bytes], int]:
    """One end-to-end run; returns every file to grep (name → bytes) and the lookup count."""
    epu_port, api_port = free_port(), free_port()
    journal = tmp_path / "journal.sqlite"
    (tmp_path / "electeur.toml").write_text(
        f'api = "127.0.0.1:{api_port}"\ntoken = "{TOKEN}"\njournal = "{journal}"\n'
        f'log_identifiers = {str(allow).lower()}\n[sinks]\nstdout = true\n'
        f'[epu]\nurl = "http://127.0.0.1:{epu_port}"\ntoken = "sandbox"\n')
    sandbox = spawn(tmp_path, "epu-sandbox", "epu-sandbox", "--db", str(epu_db), "--port", str(epu_port),
                    stdout=(tmp_path / "epu-sandbox.out").open("w"))
    sim = spawn(tmp_path, "sim", "sim", "--images", str(images), "--pty", "--show-ms", "400", stdout=subprocess.PIPE)
    bridge = None
    files: dict[str, bytes] = {}
    try:
        device = sim.stdout.readline().strip()
        bridge = spawn(tmp_path, "bridge", "run", "--device", device, "--config", str(tmp_path / "electeur.toml"),
                       stdout=(tmp_path / "stdout.jsonl").open("w"))
        counts: list[int] = []
        shown = len(json.loads((images / "manifest.json").read_text()))   # every generated code reads
        wait_until(lambda: settled_count(api_port, TOKEN, counts, at_least=shown), 120, "the reads to settle")
        files = {p.name + " (running)": p.read_bytes() for p in tmp_path.glob("journal.sqlite*")}
    finally:
        stop(bridge, sim, sandbox)
    files |= {p.name: p.read_bytes() for p in tmp_path.glob("journal.sqlite*")}
    files |= {name: (tmp_path / name).read_bytes() for name in ("bridge.log", "sim.log", "epu-sandbox.log",
                                                                "epu-sandbox.out")}
    return files, counts[-1]


def leaks(data: bytes, secrets: set[str]) -> list[str]:
    """Identifiers found as words (no letter, digit or UTF-8 byte either side): in clear they always stand so
    (JSON quotes, separators), while a 3-letter name like "Luc" turns up by chance inside base64 ciphertext
    in about one run in two."""
    return sorted(s for s in secrets if re.search(rb"(?<![0-9A-Za-z\x80-\xff])" + re.escape(s.encode("utf-8"))
                                                  + rb"(?![0-9A-Za-z\x80-\xff])", data))


@pytest.mark.slow
def test_no_identifier_in_clear_in_logs_or_journal_after_an_end_to_end_run(tmp_path, samples) -> None:
    images, epu_db, secrets = samples
    files, count = run_bridge(tmp_path, images, epu_db, allow=False)
    assert any(name.endswith("-wal (running)") for name in files)              # the WAL was there to grep
    for name, data in files.items():
        assert leaks(data, secrets) == [], name
    assert b"sealed, key" in files["bridge.log"] and b"new lookup" in files["bridge.log"]
    assert b"listening" in files["epu-sandbox.out"]
    delivered = (tmp_path / "stdout.jsonl").read_bytes()
    assert delivered.count(b"\n") == count and len(leaks(delivered, secrets)) >= 6  # the reads did carry them
    prescriptions = [lk for lk in map(json.loads, delivered.decode().splitlines()) if lk["kind"] == "ordonnance"]
    assert prescriptions and all("state" in lk["epu"] for lk in prescriptions)  # ePU was asked about each
    print(f"\nhealth data: {count} reads, {len(secrets)} identifier strings searched in {len(files)} files, "
          f"{sum(len(leaks(d, secrets)) for d in files.values())} in clear; stdout sink carries {len(leaks(delivered, secrets))}")


@pytest.mark.slow
def test_log_identifiers_true_is_the_explicit_switch_that_keeps_them_in_clear_in_the_journal(tmp_path, samples) -> None:
    images, epu_db, secrets = samples
    files, count = run_bridge(tmp_path, images, epu_db, allow=True)
    journal = b"".join(data for name, data in files.items() if name.startswith("journal.sqlite"))
    assert len(leaks(journal, secrets)) >= 6
    assert b"identifiers in clear: log_identifiers = true" in files["bridge.log"]
    print(f"\nhealth data, log_identifiers = true: {count} reads, {len(leaks(journal, secrets))} identifier strings "
          f"in clear in the journal files, {len(leaks(files['bridge.log'], secrets))} in the bridge log")
