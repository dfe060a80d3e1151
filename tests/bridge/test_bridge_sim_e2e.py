"""The must-show run with the real virtual reader: `electeur sim --pty` → `electeur run --device <pty>` → API.

500 distinct QR codes shown one after the other to the simulated board (real firmware, on-board decoding,
framed protocol with retransmission); the bridge is SIGKILLed mid-stream and restarted on the same journal,
or the reader is unplugged and replugged (SIGUSR1 to `electeur sim --pty-link`) while the bridge keeps
running on the stable link. Every read must come out of the API exactly once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import segno

from host_bridge.testbench.fault_rig import all_lookups, wait_until
from tests.bridge.test_bridge_run import call, free_port

TOKEN = "sim-e2e-token-0123456789"
READS = 500


def lookup_count(port: int) -> int:
    try:
        return call(port, "/api/health", TOKEN)[1]["lookups"]
    except OSError:
        return -1


def start_bridge(tmp_path, port: int, device: str) -> subprocess.Popen:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_DATA_HOME": str(tmp_path / "data")}
    return subprocess.Popen([sys.executable, "-m", "host_bridge.cli", "run", "--device", device, "--api",
                             f"127.0.0.1:{port}", "--token", TOKEN, "--journal", str(tmp_path / "j.sqlite")],
                            stdout=subprocess.DEVNULL, stderr=(tmp_path / "bridge.log").open("ab"), env=env)


def write_codes(tmp_path) -> str:
    images = tmp_path / "codes"
    images.mkdir()
    for n in range(READS):
        segno.make_qr(f"SIM-E2E-{n:04d}", error="m").save(images / f"{n:04d}.png", scale=4, border=4)
    return str(images)


def start_sim(tmp_path, *options: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "host_bridge.cli", "sim", "--images", write_codes(tmp_path),
                             "--pty", "--show-ms", "20", *options], stdout=subprocess.PIPE,
                            stderr=(tmp_path / "sim.log").open("wb"), text=True)


def settled_lookups(port: int) -> list[dict]:
    """Every lookup in the API once all reads arrived, after a pause in which a late duplicate would show up."""
    wait_until(lambda: lookup_count(port) >= READS, 180, f"{READS} lookups")
    time.sleep(1.0)
    return all_lookups(port, TOKEN)


def stop(*procs: subprocess.Popen | None) -> None:
    for proc in procs:
        if proc:
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)


def assert_each_read_once(tmp_path, lookups: list[dict]) -> None:
    texts = sorted(lk["text"] for lk in lookups)
    assert texts == [f"SIM-E2E-{n:04d}" for n in range(READS)], (tmp_path / "bridge.log").read_text()[-3000:]
    assert len({lk["id"] for lk in lookups}) == READS


@pytest.mark.slow
def test_sim_pty_500_reads_to_500_lookups_across_sigkill(tmp_path):
    sim = start_sim(tmp_path)
    port = free_port()
    bridge = None
    try:
        device = sim.stdout.readline().strip()
        assert device.startswith("/dev/"), device
        bridge = start_bridge(tmp_path, port, device)
        wait_until(lambda: lookup_count(port) >= 150, 120, "150 lookups")
        bridge.send_signal(signal.SIGKILL)
        bridge.wait()
        bridge = start_bridge(tmp_path, port, device)
        lookups = settled_lookups(port)
    finally:
        stop(bridge, sim)
    assert_each_read_once(tmp_path, lookups)


@pytest.mark.slow
def test_sim_pty_500_reads_to_500_lookups_across_unplug_replug(tmp_path):
    """The bridge opens the stable link; the reader is unplugged twice mid-stream (its pty closed, a new
    one opened, maybe under another /dev name): the bridge re-opens the link and the firmware resends."""
    link = tmp_path / "electeur-reader"
    sim = start_sim(tmp_path, "--pty-link", str(link))
    port = free_port()
    bridge = None
    try:
        first = sim.stdout.readline().strip()
        assert os.readlink(link) == first
        bridge = start_bridge(tmp_path, port, str(link))
        for count in (150, 320):
            wait_until(lambda: lookup_count(port) >= count, 120, f"{count} lookups")
            sim.send_signal(signal.SIGUSR1)
            replugged = sim.stdout.readline().strip()     # printed once the new pty is there
            assert replugged.startswith("/dev/") and os.readlink(link) == replugged
        lookups = settled_lookups(port)
        devices = call(port, "/api/devices", TOKEN)[1]
    finally:
        stop(bridge, sim)
    assert_each_read_once(tmp_path, lookups)
    assert "disconnected" in (tmp_path / "bridge.log").read_text()     # the bridge did see the unplug
    assert not os.path.lexists(link)        # the link goes away with the reader
    assert [d["state"] for d in devices["devices"]] == ["connected"]   # and re-opened it


@pytest.mark.slow
def test_sim_streaming_frames_gives_one_lookup_per_code_shown(tmp_path):
    """`--decode host`: the reader streams frames; the bridge decodes them and a code seen in many
    consecutive frames is one read."""
    images = tmp_path / "codes"
    images.mkdir()
    for n in range(12):
        segno.make_qr(f"FRAME-E2E-{n:02d}", error="m").save(images / f"{n:02d}.png", scale=4, border=4)
    sim = subprocess.Popen([sys.executable, "-m", "host_bridge.cli", "sim", "--images", str(images), "--pty",
                            "--decode", "host", "--show-ms", "800"], stdout=subprocess.PIPE,
                           stderr=(tmp_path / "sim.log").open("wb"), text=True)
    port = free_port()
    bridge = None
    try:
        device = sim.stdout.readline().strip()
        bridge = start_bridge(tmp_path, port, device)
        wait_until(lambda: lookup_count(port) >= 12, 60, "12 lookups")
        time.sleep(1.0)
        lookups = call(port, "/api/lookups", TOKEN)[1]["lookups"]
    finally:
        stop(bridge, sim)
    assert sorted(lk["text"] for lk in lookups) == [f"FRAME-E2E-{n:02d}" for n in range(12)]
    assert all(lk["source"]["read_id"].startswith("f") for lk in lookups)  # decoded on the host, from frames
