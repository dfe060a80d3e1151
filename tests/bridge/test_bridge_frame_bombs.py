"""A reader's FRAME_START sizes are untrusted: a rogue peer costs the bridge a bounded few MB, and a valid
READ sent behind its flood is still delivered and ACKed."""

from __future__ import annotations

import io
import json
import struct
import tracemalloc

from firmware import protocol as P
from host_bridge.link import assembly
from host_bridge.link.reader_link import ReaderLink

MB = 1024 * 1024


def start(reader: int, frame_id: int, kind: int, width: int, height: int, length: int) -> bytes:
    return P.encode(P.FRAME_START, frame_id, struct.pack("<BHHII", kind, width, height, length, 0), reader)


def chunk(reader: int, frame_id: int, off: int, data: bytes) -> bytes:
    return P.encode(P.FRAME_CHUNK, frame_id, struct.pack("<I", off) + data, reader)


def link() -> tuple[ReaderLink, list, io.BytesIO]:
    reads: list = []
    out = io.BytesIO()
    return ReaderLink(out, lambda r, s, p, m: reads.append((r, s, p)), lambda r, f: None), reads, out


def acks(out: io.BytesIO) -> list[tuple[int, int]]:
    return [(m.reader, m.seq) for m in P.Decoder().feed(out.getvalue()) if m.type == P.ACK]


def peak_while(action) -> int:
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_unfinished_frame_starts_allocate_nothing_and_a_read_behind_them_is_acked():
    lk, reads, out = link()
    bombs = b"".join(start(1, n, P.GRAY8, 640, 480, 640 * 480) for n in range(200))   # 61 MB announced
    peak = peak_while(lambda: lk.feed(bombs + P.read(1, 7, b"RX-1")))
    assert peak < 1 * MB                        # was 61 MB: bytearray(length) at each FRAME_START
    assert reads == [(1, 7, b"RX-1")] and (1, 7) in acks(out)


def test_a_frame_larger_than_any_board_allows_is_refused_before_allocation():
    lk, _, out = link()
    peak = peak_while(lambda: lk.feed(start(1, 1, P.JPEG, 0, 0, 50 * MB) + chunk(1, 1, 0, b"\xff" * 1000)))
    assert peak < 1 * MB and lk.stats["bad_messages"] == 1
    lk.feed(P.encode(P.FRAME_END, 1, struct.pack("<I", 0), 1))
    assert acks(out) == []                      # never held, so nothing to acknowledge


def test_the_board_named_in_hello_sets_the_largest_frame(monkeypatch):
    small = {"camera": {"sensor_px": [324, 244]}}                   # an HM01B0-class sensor: QVGA at most
    monkeypatch.setattr(assembly, "board_limits", lambda: {"hm01b0": assembly.profile_limit(small), "": 1_920_000})
    lk, _, _ = link()
    lk.feed(P.hello(2, "hm01b0", ["framed", "stream:gray8"]))
    lk.feed(start(2, 1, P.GRAY8, 640, 480, 640 * 480))
    assert lk.stats["bad_messages"] == 1
    lk.feed(start(3, 1, P.GRAY8, 640, 480, 640 * 480))   # no HELLO: any board's largest (UXGA) is allowed
    assert lk.stats["bad_messages"] == 1


def test_every_shipped_board_may_stream_uxga_and_nothing_larger():
    assert set(assembly.board_limits().values()) == {1600 * 1200}


def test_memory_grows_with_chunks_within_the_links_budget_and_frames_per_reader():
    lk, _, _ = link()
    big = b"\x01" * 1000
    wire = bytearray()
    for reader in range(1, 7):                  # six readers on one link, each 2 frames of 1 MB (JPEG) unfinished
        for frame in (1, 2, 3):
            wire += start(reader, frame, P.JPEG, 1600, 1200, 1_000_000)
            wire += b"".join(chunk(reader, frame, off, big) for off in range(0, 1_000_000 - 1000, 1000))
    peak = peak_while(lambda: [lk.feed(wire[i:i + 4096]) for i in range(0, len(wire), 4096)])  # as poll() reads
    held = lk._frames.held
    assert held <= assembly.BUDGET and peak < assembly.BUDGET + 2 * MB
    assert len(lk._frames._open) <= assembly.PER_LINK


def test_each_board_frame_fits_the_budget():
    assert all(limit <= assembly.BUDGET // 2 for limit in assembly.board_limits().values())


def test_an_unfinished_frame_is_dropped_after_the_deadline():
    now = [0.0]
    frames = assembly.Frames(lambda reader: None, clock=lambda: now[0])
    frames.start(P.decode_frame(start(1, 1, P.GRAY8, 4, 4, 16)[:-1]))
    frames.chunk(P.decode_frame(chunk(1, 1, 0, b"\x00" * 8)[:-1]))
    now[0] = assembly.DEADLINE_S + 1
    frames.start(P.decode_frame(start(2, 1, P.GRAY8, 4, 4, 16)[:-1]))   # any frame message sweeps
    assert frames.end(P.decode_frame(P.encode(P.FRAME_END, 1, struct.pack("<I", 0), 1)[:-1])) is None
    assert frames.dropped == 1 and frames.held == 0


def test_a_frame_with_a_lost_chunk_is_acked_as_dropped_and_keeps_no_data():
    lk, _, out = link()
    data = bytes(range(256)) * 16
    wire = [m for m in P.frame_messages(4, 9, P.GRAY8, 64, 64, data)]
    del wire[2]                                 # the second chunk is lost on the line
    lk.feed(b"".join(wire))
    assert lk.stats["frames_dropped"] == 1 and acks(out) == [(4, 9)]
    assert json.dumps(lk.stats)                 # still a plain dict of counts
