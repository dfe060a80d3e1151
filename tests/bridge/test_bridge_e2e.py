"""End to end over a real pty: a reader (the firmware's own protocol Outbox) → `electeur run` → API.

Two readers on two ptys, 500 reads → 500 lookups, none lost, none duplicated, while the bridge is
SIGKILLed mid-stream and restarted on the same journal, and while one pty is closed and re-opened
(unplug/replug).
"""

from __future__ import annotations

import os
import pty
import signal
import subprocess
import sys
import threading
import time
import tty
from pathlib import Path

import pytest

from host_bridge.testbench.fault_rig import all_lookups, wait_until
from host_bridge.payloads.validators import iso7064_mod37_36_check, luhn_ok
from tests.bridge.test_bridge_run import call, free_port

P = pytest.importorskip("firmware.protocol")
pytest.importorskip("host_bridge.link.reader_link")
TOKEN = "e2e-token-0123456789abcdef"
READS = 250  # per reader, two readers


def luhn_complete(body: str) -> str:
    return next(body + d for d in "0123456789" if luhn_ok(body + d))


NUMBER = "K7P39QXA2M4TB8R" + iso7064_mod37_36_check("K7P39QXA2M4TB8R")
PRESCRIPTION = f"EP1|{NUMBER}|{luhn_complete('12345678')}|{luhn_complete('1010101010')}|DUPONTEL|Marie-Anne|1984-02-29"


def payload(reader: int, seq: int) -> str:
    """Reader 2's first read is an e-prescription naming a patient (for the log redaction check)."""
    return PRESCRIPTION if (reader, seq) == (2, 0) else f"E2E-{reader}-{seq:04d}"


class PtyReader:
    """The reader end of a serial line: a pty whose slave is reachable through a stable symlink,
    sending READs from an Outbox (resent until ACKed), like the firmware does."""

    def __init__(self, link: Path, reader_id: int, count: int = READS) -> None:
        self.link = link
        self.id = reader_id
        self.count = count
        self.outbox = P.Outbox(reader=reader_id, capacity=16, retry_ms=200, max_retry_ms=1000)
        self.acked: set[int] = set()
        self.deaf = False               # ACKs lost on the line while set: the reader resends
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.plug()

    def plug(self) -> None:
        self.master, slave = pty.openpty()
        tty.setraw(slave)
        self.slave = slave  # kept open so the line survives a bridge restart
        tmp = self.link.with_suffix(".new")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(os.ttyname(slave))
        tmp.replace(self.link)
        self.decoder = P.Decoder()
        os.write(self.master, P.hello(self.id, "esp32-cam-ai-thinker", ["framed"], name=f"comptoir-{self.id}"))

    def unplug(self) -> None:
        with self.lock:
            os.close(self.master)
            os.close(self.slave)
            self.master = -1

    def run(self) -> None:
        seq = 0
        import select
        while not self.stop.is_set():
            with self.lock:
                if self.master < 0:
                    time.sleep(0.01)
                    continue
                while seq < self.count and not self.outbox.full():
                    self.outbox.add(seq, payload(self.id, seq).encode(), captured_ms=1000 + seq)
                    seq += 1
                try:
                    for wire in self.outbox.due(int(time.monotonic() * 1000)):
                        os.write(self.master, wire)
                    ready, _, _ = select.select([self.master], [], [], 0.02)
                    data = os.read(self.master, 4096) if ready else b""
                except OSError:
                    data = b""
            for msg in self.decoder.feed(data):
                if msg.type == P.ACK and not self.deaf:
                    self.outbox.ack(msg.seq)
                    self.acked.add(msg.seq)
            if not data:
                time.sleep(0.005)


def start_bridge(tmp_path: Path, port: int, readers: list[PtyReader], *extra: str, name: str = "bridge") -> subprocess.Popen:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_DATA_HOME": str(tmp_path / "data")}
    devices = [arg for r in readers for arg in ("--device", str(r.link))]
    return subprocess.Popen([sys.executable, "-m", "host_bridge.cli", "run", *devices, "--api", f"127.0.0.1:{port}",
                             "--token", TOKEN, "--journal", str(tmp_path / f"{name}.sqlite"), *extra],
                            stdout=subprocess.DEVNULL, stderr=(tmp_path / f"{name}.log").open("ab"), env=env)


@pytest.mark.slow
def test_500_reads_survive_sigkill_and_unplug_without_loss_or_duplicates(tmp_path):
    port = free_port()
    readers = [PtyReader(tmp_path / f"reader-{n}", n) for n in (1, 2)]
    reader = readers[0]
    bridge = start_bridge(tmp_path, port, readers)
    try:
        for r in readers:
            threading.Thread(target=r.run, daemon=True).start()
        wait_until(lambda: len(reader.acked) >= 80, 60, "80 reads acknowledged")
        reader.deaf = True                  # the next read is journaled, its ACK lost...
        time.sleep(0.3)
        bridge.send_signal(signal.SIGKILL)  # ...and the bridge killed mid-stream: the new one gets it again
        bridge.wait()
        reader.deaf = False
        time.sleep(0.3)
        bridge = start_bridge(tmp_path, port, readers)

        wait_until(lambda: len(reader.acked) >= 160, 60, "160 reads acknowledged")
        reader.unplug()
        time.sleep(0.5)
        with reader.lock:
            reader.plug()

        wait_until(lambda: all(len(r.acked) == READS and not len(r.outbox) for r in readers), 90,
                   "every read acknowledged")
        lookups = all_lookups(port, TOKEN)
        devices = call(port, "/api/devices", TOKEN)[1]["devices"]
    finally:
        for r in readers:
            r.stop.set()
        bridge.send_signal(signal.SIGTERM)
        bridge.wait(10)
    err = (tmp_path / "bridge.log").read_text()
    texts = [lk["text"] for lk in lookups]
    assert len(texts) == 2 * READS and len(set(lk["id"] for lk in lookups)) == 2 * READS, err[-2000:]
    assert sorted(texts) == sorted(payload(r, n) for r in (1, 2) for n in range(READS))
    for r in (1, 2):                    # each reader's reads once, in reading order
        assert [lk["text"] for lk in lookups if lk["source"]["reader"] == f"reader-{r}"] == \
            [payload(r, n) for n in range(READS)]
    assert [d["state"] for d in devices] == ["connected", "connected"]
    assert "disconnected" in err  # the unplug was seen and recovered
    assert "repeated lookup" in err  # retransmissions reached the journal and were stored once
    prescription = next(lk for lk in lookups if lk["kind"] == "ordonnance")
    assert prescription["fields"]["patient_family_name"] == "DUPONTEL"
    for secret in ("DUPONTEL", "Marie-Anne", "1984-02-29", "E2E-1-0042"):
        assert secret not in err  # identifiers and payloads are redacted in the bridge's log
