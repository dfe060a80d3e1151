"""The virtual reader killed with reads unacknowledged, restarted on the same flash: every read reaches the host's
journal exactly once. And the good-read beep follows the host's ACK over the real protocol."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from pathlib import Path


from conftest import REPO
from firmware import protocol as P
from host_bridge.bridge.journal import Journal
from host_bridge.link.reader_link import ReaderLink
from host_bridge.testbench.virtual_reader import PipeStream, command, write_frames
from host_bridge.payloads.lookup import build_lookup, now_source

TEXTS = [f"OUTBOX-E2E-{i}-{'x' * i}" for i in range(5)]


def frames_of(tmp_path: Path, name: str, texts: list[str]) -> Path:
    import segno
    d = tmp_path / name
    d.mkdir()
    images = []
    for i, text in enumerate(texts):
        images.append(d / f"{i}.png")
        segno.make_qr(text).save(str(images[-1]), scale=4, border=4)
    write_frames(images, d)
    return d


def start(frames: Path, flash: Path) -> subprocess.Popen:
    cmd = command("cpython", frames, "framed", drain_ms=60000, flash=flash) + ["--trace-feedback"]
    return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO)


def wait_for(cond, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)


def outbox_seqs(flash: Path) -> list[int]:
    try:
        return [m.seq for m in P.Decoder().feed((flash / "outbox.bin").read_bytes())]
    except FileNotFoundError:
        return []


class Host:
    """A bridge in miniature: a ReaderLink per connection journaling into a real SQLite journal, with the
    read id the bridge uses (host_bridge/bridge/service.py: seq and the reader's capture time)."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.lose_ack: set[bytes] = set()       # journaled, but the ACK is lost on the line
        self.seen: dict[bytes, int] = {}        # payload -> seq, every READ that reached on_read
        self.new: list[bytes] = []              # payloads the journal stored as new

    def on_read(self, reader: int, seq: int, payload: bytes, meta: dict) -> None:
        self.seen[payload] = seq
        lookup = build_lookup(payload, source=now_source(f"reader-{reader}", engine=meta["engine"],
                                                         read_id=f"{seq}-{meta['captured_ms']}"))
        if self.journal.record(lookup)[1]:
            self.new.append(payload)

    def connect(self, proc: subprocess.Popen) -> tuple[ReaderLink, threading.Thread]:
        host = self

        class Lossy(PipeStream):
            def write(self, data: bytes) -> None:
                msg = P.decode_frame(data[:-1])
                if msg.type == P.ACK and any(host.seen.get(p) == msg.seq for p in host.lose_ack):
                    return
                super().write(data)

        link = ReaderLink(Lossy(proc), self.on_read)
        thread = threading.Thread(target=link.run, daemon=True)
        thread.start()
        return link, thread


def test_a_reader_killed_with_reads_unacknowledged_delivers_each_exactly_once_after_restart(tmp_path) -> None:
    flash = tmp_path / "flash"
    flash.mkdir()
    journal = Journal(tmp_path / "journal.db")
    host = Host(journal)
    payloads = [t.encode() for t in TEXTS]
    host.lose_ack = {payloads[2]}                               # journaled, never acknowledged
    first = start(frames_of(tmp_path, "run1", TEXTS), flash)
    try:
        host.connect(first)
        wait_for(lambda: len(outbox_seqs(flash)) == 3 and len(host.new) == 3,
                 "2 journaled; 2, 3 and 4 waiting on flash, 0 and 1 gone")
        left = outbox_seqs(flash)
        assert left[0] == host.seen[payloads[2]]
        assert host.new == payloads[:3] and list(host.seen) == payloads[:3]   # 3 and 4 wait behind 2
    finally:
        first.send_signal(signal.SIGKILL)                       # power cut: no drain, no clean exit
        first.wait(10)
    assert first.returncode == -signal.SIGKILL

    host.lose_ack = set()
    host.seen = {}
    second = start(frames_of(tmp_path, "run2", []), flash)      # no new code: only what flash kept
    link, thread = host.connect(second)                         # a new connection, as the bridge opens one
    try:
        assert second.wait(60) == 0, second.stderr.read().decode()
    finally:
        if second.poll() is None:
            second.kill()
    thread.join(10)
    assert list(host.seen) == payloads[2:]                      # the one whose ACK was lost, then 3, 4
    assert [host.seen[p] for p in payloads[2:]] == left         # with their original seq
    assert host.new == payloads                                 # each read journaled once, in reading order
    assert journal.count() == len(payloads)
    assert link.stats["reads"] == 3 and not (flash / "outbox.bin").exists()
    journal.close()


def test_the_good_beep_comes_after_the_hosts_ack_and_pending_when_it_is_late(tmp_path) -> None:
    flash = tmp_path / "flash"
    flash.mkdir()
    (flash / "config.json").write_text(json.dumps({"ack_feedback_ms": 300}))
    proc = start(frames_of(tmp_path, "frames", TEXTS[:1]), flash)
    held: list[bytes] = []
    stderr_lines: list[str] = []
    threading.Thread(target=lambda: stderr_lines.extend(line.decode().strip() for line in proc.stderr),
                     daemon=True).start()

    class Holding(PipeStream):
        def write(self, data: bytes) -> None:
            held.append(data)                   # the host is slow: ACKs wait here

    got: list[bytes] = []
    link = ReaderLink(Holding(proc), lambda r, s, p, m: got.append(p))
    thread = threading.Thread(target=link.run, daemon=True)
    thread.start()
    try:
        wait_for(lambda: "feedback pending" in stderr_lines, "the pending pattern")
        assert got == [TEXTS[0].encode()] and "feedback good" not in stderr_lines
        PipeStream(proc).write(held[0])         # the ACK arrives at last
        wait_for(lambda: "feedback good" in stderr_lines, "the good pattern")
        assert proc.wait(30) == 0               # nothing left to deliver: the simulator ends
    finally:
        if proc.poll() is None:
            proc.kill()
    thread.join(10)
    feedback = [line for line in stderr_lines if line.startswith("feedback ")]
    assert feedback == ["feedback pending", "feedback good"]
