"""The reader's outbox on flash (survives a power cut), good-read feedback after the host's ACK, a full outbox."""

from __future__ import annotations

import asyncio
import time

import pytest

from firmware import board, config, outbox_file, protocol as P
from firmware.feedback import Feedback
from firmware.main import report
from firmware.outputs.framed import FramedOutput
from firmware.scan import ScanLoop
from host_bridge.link.reader_link import ReaderLink
from reader_doubles import Codes, HostPort
from tests.helpers.micropython import MP_RUNTIMES, run_micropython

PAYLOADS = [b"\x00binary\x00read-1", b"DC03|ordonnance|" + bytes(range(256)), b"third\r\n\x1d"]


def filled(reader: int = 3) -> P.Outbox:
    box = P.Outbox(reader=reader)
    for i, p in enumerate(PAYLOADS):
        box.add(1000 + i, p, "qr" if i else "datamatrix", "quirc", 50_000 + i)
    return box


def test_a_saved_outbox_reloads_with_the_same_seq_reader_and_capture_time(tmp_path) -> None:
    path = str(tmp_path / "outbox.bin")
    outbox_file.save(filled(reader=3), path)
    box = P.Outbox(reader=9)                        # the reader id changed since: the reads keep theirs
    assert outbox_file.load(box, path) == []
    assert list(box.records()) == list(filled(reader=3).records())
    sent = drained(box)
    assert [(m.reader, m.seq, m.flags) for m in sent] == [(3, 1000 + i, P.FLAG_RETRANSMIT) for i in range(3)]
    assert [P.parse_read(m) for m in sent] == [P.parse_read(m) for m in drained(filled(reader=3))]


def drained(box: P.Outbox) -> list[P.Message]:
    """What the outbox sends to a host that ACKs each read at once (one at a time, oldest first)."""
    sent: list[P.Message] = []
    while len(box):
        sent += P.Decoder().feed(b"".join(box.due(0)))
        box.ack(sent[-1].seq)
    return sent


def test_an_empty_outbox_leaves_no_file(tmp_path) -> None:
    path = tmp_path / "outbox.bin"
    outbox_file.save(filled(), str(path))
    outbox_file.save(P.Outbox(reader=3), str(path))
    assert not path.exists() and not (tmp_path / "outbox.bin.tmp").exists()
    assert outbox_file.load(P.Outbox(reader=3), str(path)) == []


def test_a_torn_last_record_is_skipped_with_a_message_and_the_others_kept(tmp_path) -> None:
    path = tmp_path / "outbox.bin"
    outbox_file.save(filled(), str(path))
    path.write_bytes(path.read_bytes()[:-7])       # power cut in the middle of the last record
    box = P.Outbox(reader=3)
    errors = outbox_file.load(box, str(path))
    assert [seq for seq, *_ in box.records()] == [1000, 1001]
    assert len(errors) == 1 and "1 damaged record(s) skipped, 2 read(s) restored" in errors[0]


def test_a_corrupt_record_in_the_middle_fails_its_crc_and_only_it_is_lost(tmp_path) -> None:
    path = tmp_path / "outbox.bin"
    outbox_file.save(filled(), str(path))
    data = bytearray(path.read_bytes())
    data[len(P.read(3, 1000, PAYLOADS[0], "datamatrix", "quirc", 50_000)) + 40] ^= 0x55
    path.write_bytes(bytes(data))
    box = P.Outbox(reader=3)
    errors = outbox_file.load(box, str(path))
    assert [seq for seq, *_ in box.records()] == [1000, 1002]
    assert errors and "1 damaged record(s)" in errors[0]


@pytest.mark.parametrize("content", [b"\xff" * 5000, bytes(range(256)) * 3, b"\x00\x00\x00", b"garbage\x00"])
def test_a_garbage_file_restores_nothing_and_says_so(tmp_path, content: bytes) -> None:
    path = tmp_path / "outbox.bin"
    path.write_bytes(content)
    box = P.Outbox(reader=3)
    errors = outbox_file.load(box, str(path))
    assert len(box) == 0
    assert errors or content == b"\x00\x00\x00"       # empty records: nothing damaged, nothing to say


def test_the_temp_file_is_used_when_a_power_cut_fell_between_remove_and_rename(tmp_path) -> None:
    outbox_file.save(filled(), str(tmp_path / "outbox.bin"))
    (tmp_path / "outbox.bin").rename(tmp_path / "outbox.bin.tmp")
    box = P.Outbox(reader=3)
    assert outbox_file.load(box, str(tmp_path / "outbox.bin")) == [] and len(box) == 3


def test_boot_with_a_damaged_outbox_reports_an_error_and_resends_the_intact_reads(tmp_path) -> None:
    path = tmp_path / "outbox.bin"
    outbox_file.save(filled(), str(path))
    path.write_bytes(path.read_bytes()[:-3])
    port = HostPort()
    out = FramedOutput(port, config.defaults(), board.SIM, seq0=1001)   # a new boot's seq colliding on purpose
    errors = out.restore(str(path))
    out.start()
    report(out, errors)
    out.poll()
    msgs = port.take()
    assert [m.name for m in msgs] == ["HELLO", "ERROR", "READ"]
    assert "damaged" in msgs[1].json()["message"]
    port.inbox = P.ack(3, 1000)
    out.poll()
    msgs += port.take()
    assert [(m.seq, m.flags) for m in msgs[2:]] == [(1000, P.FLAG_RETRANSMIT), (1001, P.FLAG_RETRANSMIT)]
    assert out.next_seq() == 1002                   # never reuses a restored read's seq


def test_flash_is_written_once_per_change_and_acks_of_a_poll_are_batched(tmp_path) -> None:
    port = HostPort()
    out = FramedOutput(port, config.defaults(), board.SIM, seq0=10, feedback=Feedback({}))
    out.restore(str(tmp_path / "outbox.bin"))
    for i in range(3):
        asyncio.run(out.emit(b"read-%d" % i))
    assert out.flash_writes == 3                    # one per read, written before it is sent
    assert [P.parse_read(m)[0] for m in P.Decoder().feed((tmp_path / "outbox.bin").read_bytes())] == \
        [b"read-0", b"read-1", b"read-2"]
    for now in (600, 1600, 4000):                   # resends, a CONFIG_GET: the outbox did not change
        out.outbox.due(now)
    port.inbox = P.config_get(1)
    out.poll()
    assert out.flash_writes == 3
    port.inbox = P.ack(1, 11) + P.ack(1, 12) + P.ack(1, 13) + P.ack(1, 99)
    out.poll()
    assert out.flash_writes == 4 and not (tmp_path / "outbox.bin").exists()
    port.inbox = P.ack(1, 11)                       # a repeated ACK changes nothing: no write
    out.poll()
    assert out.flash_writes == 4


def scan(payloads: list[bytes], port: HostPort, **cfg_keys):
    cfg = dict(config.defaults(), heartbeat_ms=0, change_threshold=0, decode="board", **cfg_keys)
    feedback = Feedback({})
    out = FramedOutput(port, cfg, board.SIM, seq0=100, feedback=feedback)
    codes = Codes(payloads)
    return ScanLoop(cfg, codes, codes, out, feedback), out, feedback


def test_framed_good_feedback_waits_for_the_hosts_ack() -> None:
    port = HostPort()
    loop, out, feedback = scan([b"ONE"], port)
    asyncio.run(loop.step())
    reads = [m for m in port.take() if m.type == P.READ]
    assert len(reads) == 1 and feedback.counts == {"good": 0, "error": 0, "pending": 0}
    port.inbox = P.ack(1, reads[0].seq)
    out.poll()
    assert feedback.counts == {"good": 1, "error": 0, "pending": 0}


def test_no_ack_in_time_gives_the_pending_pattern_and_a_late_ack_the_good_one() -> None:
    port = HostPort()
    loop, out, feedback = scan([b"LATE"], port, ack_feedback_ms=100)
    asyncio.run(loop.step())
    deadline = time.monotonic() + 10
    while not feedback.counts["pending"] and time.monotonic() < deadline:
        out.poll()
        time.sleep(0.02)
    assert feedback.counts == {"good": 0, "error": 0, "pending": 1}
    assert len(out.outbox) == 1                     # the read stays, resent until acknowledged
    out.poll()
    assert feedback.counts["pending"] == 1          # once per read
    port.inbox = P.ack(1, 101)
    out.poll()
    assert feedback.counts == {"good": 1, "error": 0, "pending": 1} and len(out.outbox) == 0


def test_a_full_outbox_refuses_the_newest_read_with_error_feedback_and_keeps_the_oldest() -> None:
    port = HostPort()
    loop, out, feedback = scan([b"A", b"B", b"C"], port, outbox_max=2, outbox_wait_ms=0)

    async def run() -> None:
        while await loop.step():
            pass
    asyncio.run(run())
    assert {P.parse_read(m)[0] for m in port.take() if m.type == P.READ} == {b"A"}    # B waits behind A
    assert [payload for _, _, payload, *_ in out.outbox.records()] == [b"A", b"B"]
    assert feedback.counts["error"] == 1 and loop.stats["refused"] == 1
    got: list[bytes] = []
    host = HostPort()
    link = ReaderLink(host, lambda r, s, p, m: got.append(p))
    out.outbox.rewind()                             # as when a host (re)connects: due now
    for _ in range(3):
        out.poll()
        link.feed(port.written)
        port.written, port.inbox, host.written = b"", host.written, b""
    assert got == [b"A", b"B"] and len(out.outbox) == 0 and feedback.counts["good"] == 2


def test_the_refusal_is_reported_to_the_host() -> None:
    port = HostPort()
    loop, out, _ = scan([b"A", b"B"], port, outbox_max=1, outbox_wait_ms=50)
    asyncio.run(loop.step())
    asyncio.run(loop.step())
    errors = [m.json() for m in port.take() if m.type == P.ERROR]
    assert errors == [{"code": "outbox", "message": "1 reads wait for the host's ACK: new read refused"}]


@pytest.mark.parametrize("runtime", MP_RUNTIMES)
def test_the_outbox_file_under_micropython_survives_a_torn_write_and_matches_cpython(runtime, tmp_path) -> None:
    proc = run_micropython(
        "from firmware import outbox_file, protocol as P\n"
        "box = P.Outbox(3)\n"
        "for i in range(3):\n"
        "    box.add(1000 + i, b'\\x00read-%d' % i, 'qr', 'quirc', 50000 + i)\n"
        "outbox_file.save(box, 'outbox.bin')\n"
        "outbox_file.save(box, 'outbox.bin')\n"          # the second save renames over an existing file
        "data = open('outbox.bin', 'rb').read()\n"
        "print(data.hex())\n"
        "open('outbox.bin', 'wb').write(data[:-5])\n"
        "again = P.Outbox(9)\n"
        "print(outbox_file.load(again, 'outbox.bin'))\n"
        "print([r[0] for r in again.records()], [m.flags for m in P.Decoder().feed(b''.join(again.due(0)))])\n"
        "outbox_file.save(P.Outbox(3), 'outbox.bin')\n"
        "import os\n"
        "print('outbox.bin' in os.listdir())\n", tmp_path, runtime=runtime)
    assert proc.returncode == 0, proc.stderr.decode()
    hexed, errors, restored, exists = proc.stdout.decode().splitlines()
    box = P.Outbox(3)
    for i in range(3):
        box.add(1000 + i, b"\x00read-%d" % i, "qr", "quirc", 50000 + i)
    outbox_file.save(box, str(tmp_path / "cpython.bin"))
    assert bytes.fromhex(hexed) == (tmp_path / "cpython.bin").read_bytes()     # one file format on both
    assert "1 damaged record(s) skipped, 2 read(s) restored" in errors
    assert restored == "[1000, 1001] [1]" and exists == "False"     # the oldest first, alone


def test_a_read_held_by_a_full_outbox_goes_out_when_the_host_comes_back_in_time() -> None:
    """The bridge restarting: the scan holds the new read (up to outbox_wait_ms) until an ACK makes room."""

    class ComingBack(HostPort):
        def __init__(self) -> None:
            super().__init__()
            self.polls = 0

        def read(self) -> bytes:
            self.polls += 1
            return P.ack(1, 101) if self.polls == 20 else b""

    port = ComingBack()
    loop, out, feedback = scan([b"A", b"B"], port, outbox_max=1)
    asyncio.run(loop.step())
    asyncio.run(loop.step())
    assert port.polls >= 20                         # it waited, polling, for the host
    assert [payload for _, _, payload, *_ in out.outbox.records()] == [b"B"]
    assert feedback.counts == {"good": 1, "error": 0, "pending": 0} and loop.stats["refused"] == 0


def test_on_a_board_the_ack_feedback_plays_in_the_background_once_per_burst(monkeypatch) -> None:
    """signal() is called from poll(), which cannot wait: the LED pattern runs as a task; a burst of ACKs
    while it plays counts every read but blinks once."""
    import sys
    import types

    levels: list[int] = []

    class Pin:
        OUT = 1

        def __init__(self, pin: int, mode: int) -> None:
            pass

        def value(self, v: int) -> None:
            levels.append(v)

    monkeypatch.setitem(sys.modules, "machine", types.SimpleNamespace(Pin=Pin))
    feedback = Feedback({"led": {"pin": 2}})

    async def burst() -> None:
        for _ in range(3):
            feedback.signal("good")
        assert levels == []                         # nothing waited inside signal()
        await asyncio.sleep(0.3)
    asyncio.run(burst())
    assert feedback.counts["good"] == 3 and levels == [1, 0]
