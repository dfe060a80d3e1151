"""Reader <-> host link under faults: every read arrives exactly once and in reading order, ACKs only after
the callback."""

from __future__ import annotations

import random

import pytest

from firmware import protocol as P
from host_bridge.link.reader_link import Frame, ReaderLink


class Wire:
    """Collects what the host writes (its ACKs)."""

    def __init__(self) -> None:
        self.out: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.out.append(bytes(data))

    def read(self, size: int) -> bytes:
        return b""


class FaultyChannel:
    """Per message: drop, corrupt, truncate, duplicate, delay or reorder; sometimes garbage between."""

    def __init__(self, rng: random.Random, rate: float) -> None:
        self.rng, self.rate, self.held = rng, rate, []

    def pass_through(self, frames: list[bytes]) -> bytes:
        out: list[bytes] = []
        for f in frames:
            r = self.rng.random()
            if r < self.rate:                               # drop
                continue
            if r < 2 * self.rate:                           # corrupt one byte
                b = bytearray(f)
                b[self.rng.randrange(len(b) - 1)] ^= 1 << self.rng.randrange(8)
                f = bytes(b)
            elif r < 3 * self.rate:                         # truncate (the delimiter survives)
                f = f[:self.rng.randrange(len(f) - 1)] + b"\x00"
            elif r < 4 * self.rate:                         # duplicate
                out.append(f)
            elif r < 5 * self.rate:                         # delay: goes out on a later step
                self.held.append(f)
                continue
            if self.rng.random() < self.rate:
                out.append(self.rng.randbytes(self.rng.randrange(1, 40)))
            out.append(f)
        if self.held and self.rng.random() < 0.3:
            out.append(self.held.pop(0))
        if self.rng.random() < self.rate:                   # reorder
            self.rng.shuffle(out)
        return b"".join(out)


@pytest.mark.parametrize("seed", range(5))
def test_every_read_arrives_exactly_once_and_in_reading_order_through_a_faulty_link(seed: int) -> None:
    rng = random.Random(seed)
    codes = [b"code-%d-" % i + rng.randbytes(rng.randrange(0, 300)) for i in range(200)]
    delivered: list[bytes] = []
    failures = {"left": 3}

    def on_read(reader: int, seq: int, payload: bytes, meta: dict) -> None:
        if failures["left"] and rng.random() < 0.05:     # the journal fails: no ACK may go out
            failures["left"] -= 1
            raise OSError("disk full")
        delivered.append(payload)

    wire = Wire()
    link = ReaderLink(wire, on_read)
    box = P.Outbox(reader=4, capacity=8, retry_ms=40, max_retry_ms=160)
    acks = P.Decoder()
    up, down = FaultyChannel(rng, 0.04), FaultyChannel(rng, 0.04)
    pending = list(enumerate(codes, start=1))
    now = 0
    while (pending or len(box)) and now < 200_000:
        while pending and box.add(pending[0][0], pending[0][1]):
            pending.pop(0)
        link.feed(up.pass_through(box.due(now)))
        for msg in acks.feed(down.pass_through(wire.out)):
            if msg.type == P.ACK:
                box.ack(msg.seq)
        wire.out.clear()
        now += 20
    assert not pending and len(box) == 0
    assert delivered == codes                 # once each, and in reading order
    assert link.stats["duplicates"] > 0 and sum(link.errors.values()) > 0
    assert link.stats["callback_errors"] == 3 - failures["left"]


def test_no_ack_until_the_callback_returns() -> None:
    wire = Wire()
    seen_acks_during_callback = []
    link = ReaderLink(wire, lambda r, s, p, m: seen_acks_during_callback.append(list(wire.out)))
    link.feed(P.read(1, 10, b"abc"))
    assert seen_acks_during_callback == [[]]
    assert [m.type for m in P.Decoder().feed(b"".join(wire.out))] == [P.ACK]


def test_same_seq_from_two_readers_is_two_reads() -> None:
    got = []
    link = ReaderLink(Wire(), lambda r, s, p, m: got.append((r, s, p)))
    link.feed(P.read(1, 5, b"a") + P.read(2, 5, b"b") + P.read(1, 5, b"a"))
    assert got == [(1, 5, b"a"), (2, 5, b"b")]


def test_frames_are_reassembled_and_acked_after_the_decode_callback() -> None:
    wire = Wire()
    frames: list[Frame] = []
    link = ReaderLink(wire, lambda *a: None, on_frame=lambda r, f: frames.append(f))
    data = bytes(range(256)) * 300
    link.feed(b"".join(P.frame_messages(1, 77, P.GRAY8, 256, 300, data, 5)))
    (f,) = frames
    assert (f.frame_id, f.kind, f.width, f.height, f.data, f.captured_ms) == (77, "gray8", 256, 300, data, 5)
    assert [(m.type, m.seq) for m in P.Decoder().feed(b"".join(wire.out))] == [(P.ACK, 77)]


def test_frame_with_a_lost_chunk_is_dropped_not_delivered() -> None:
    frames: list[Frame] = []
    link = ReaderLink(Wire(), lambda *a: None, on_frame=lambda r, f: frames.append(f))
    msgs = list(P.frame_messages(1, 3, P.GRAY8, 100, 30, bytes(3000)))
    link.feed(b"".join(msgs[:2] + msgs[3:]))
    assert frames == [] and link.stats["frames_dropped"] == 1


def test_hello_and_other_messages_reach_on_message() -> None:
    got = []
    link = ReaderLink(Wire(), lambda *a: None, on_message=got.append)
    link.feed(P.hello(9, "sim", ["framed"]) + P.log(9, "started"))
    assert [m.name for m in got] == ["HELLO", "LOG"] and link.readers[9]["board"] == "sim"


def test_streamed_frames_become_reads_once_per_presentation() -> None:
    import numpy as np
    import segno

    from host_bridge.decode.engines import get_engine
    from host_bridge.link.frames import FrameReads
    qr = segno.make_qr("ORDO-123")
    gray = (np.array(qr.matrix, dtype=np.uint8) ^ 1) * 255
    gray = np.pad(np.kron(gray, np.ones((6, 6), np.uint8)), 24, constant_values=255)
    h, w = gray.shape
    blank = bytes([255]) * (w * h)
    got = []
    link = ReaderLink(Wire(), lambda r, s, p, m: got.append((s, p, m["source"])),
                      on_frame=FrameReads(get_engine(), lambda r, s, p, m: got.append((s, p, m["source"])), 1000))
    frames = [(1, gray.tobytes(), 0), (2, gray.tobytes(), 200), (3, blank, 400), (4, gray.tobytes(), 2000)]
    for fid, data, t in frames:
        link.feed(b"".join(P.frame_messages(1, fid, P.GRAY8, w, h, data, t)))
    assert got == [(1, b"ORDO-123", "frame"), (4, b"ORDO-123", "frame")]


def test_a_peer_inventing_reader_ids_is_bounded_and_the_first_readers_still_read(caplog) -> None:
    """Each reader id costs the link its HELLO and its remembered sequence numbers: a rogue peer sending READs
    and HELLOs under thousands of ids must not grow the link's memory. Past MAX_READERS new ids are refused
    (not journaled, not ACKed), in one log line; the readers already there go on."""
    from host_bridge.link.reader_link import MAX_READERS, SEEN_PER_READER
    got: list[tuple[int, int]] = []
    wire = Wire()
    link = ReaderLink(wire, lambda reader, seq, payload, meta: got.append((reader, seq)))
    hello = b'{"board": "esp32-s3-eye", "fw": "x"}'
    for reader in range(1, 3001):
        link.feed(P.encode(P.HELLO, 1, hello, reader) + P.read(reader, 7, b"x" * 100))
    assert len(link.readers) == MAX_READERS and len(link._seen) <= MAX_READERS
    assert got == [(r, 7) for r in range(1, MAX_READERS + 1)]
    assert len(wire.out) == MAX_READERS                     # only admitted reads were acknowledged
    assert link.stats["refused"] == 2 * (3000 - MAX_READERS)
    link.feed(P.read(1, 8, b"next"))                        # a reader admitted before goes on reading
    assert got[-1] == (1, 8)
    assert sum(len(s) for s in link._seen.values()) <= MAX_READERS * SEEN_PER_READER
    assert len([r for r in caplog.records if "reader ids" in r.getMessage()]) == 1
