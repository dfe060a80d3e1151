"""Wire protocol: round trips, CRC, resynchronisation, and random bytes raising only protocol errors."""

from __future__ import annotations

import binascii
import os
import random

import pytest

from firmware import protocol as P
from firmware import secure


def test_read_round_trip_keeps_exact_bytes_and_meta() -> None:
    payload = bytes(range(256)) * 3
    wire = P.read(7, 123456, payload, "datamatrix", "quirc", 99)
    assert wire.count(b"\x00") == 1 and wire.endswith(b"\x00")
    (msg,) = P.Decoder().feed(wire)
    assert (msg.type, msg.reader, msg.seq) == (P.READ, 7, 123456)
    assert P.parse_read(msg) == (payload, {"format": "datamatrix", "engine": "quirc", "captured_ms": 99})


def test_every_message_kind_round_trips() -> None:
    wires = [P.hello(1, "esp32-s3-eye", ["framed", "stream"]), P.ack(1, 5), P.status(1, {"fps": 3}),
             P.heartbeat(1, {"uptime_s": 4}), P.config_get(1), P.config_set(1, {"output": "line"}),
             P.config(1, {"output": "line"}), P.log(1, "boot"), P.error(1, "camera", "no camera")]
    msgs = P.Decoder().feed(b"".join(wires))
    assert [m.type for m in msgs] == [P.HELLO, P.ACK, P.STATUS, P.HEARTBEAT, P.CONFIG_GET, P.CONFIG_SET,
                                      P.CONFIG, P.LOG, P.ERROR]
    assert msgs[0].json()["board"] == "esp32-s3-eye"
    assert msgs[8].json() == {"code": "camera", "message": "no camera"}


def test_frame_is_chunked_and_reassembles() -> None:
    data = os.urandom(320 * 240)
    msgs = P.Decoder().feed(b"".join(P.frame_messages(2, 9, P.GRAY8, 320, 240, data)))
    assert msgs[0].type == P.FRAME_START and msgs[-1].type == P.FRAME_END
    assert P.parse_frame_start(msgs[0])[:4] == (P.GRAY8, 320, 240, len(data))
    chunks = [P.parse_frame_chunk(m) for m in msgs[1:-1]]
    assert max(len(c) for _, c in chunks) == P.CHUNK
    assert b"".join(c for _, c in chunks) == data
    assert P.parse_frame_end(msgs[-1]) == binascii.crc32(data)


def test_soft_crc_equals_zlib_crc() -> None:
    data = os.urandom(1000)
    assert P.crc32_soft(data) == binascii.crc32(data) == P.crc32(data)


@pytest.mark.parametrize("n", [0, 1, 253, 254, 255, 508, 509, 1000])
def test_cobs_round_trip_around_block_sizes(n: int) -> None:
    for tail in (b"", b"\x00", b"\x00\x00"):
        data = bytes(random.Random(n).randrange(1, 256) for _ in range(n)) + tail
        enc = P.cobs_encode(data)
        assert b"\x00" not in enc
        assert P.cobs_decode(enc) == data


def test_corrupted_frame_is_counted_and_next_frame_still_decodes() -> None:
    bad = bytearray(P.read(1, 1, b"first"))
    bad[5] ^= 0x40
    dec = P.Decoder()
    msgs = dec.feed(b"\x13\x37garbage\x00" + bytes(bad) + P.read(1, 2, b"second"))
    assert [m.seq for m in msgs] == [2]
    assert sum(dec.errors.values()) == 2      # the garbage frame and the corrupted one


def test_oversized_frame_is_dropped_without_growing_memory() -> None:
    dec = P.Decoder()
    assert dec.feed(b"\x01" * (P.MAX_ENCODED * 3)) == []
    assert len(dec._buf) <= P.MAX_ENCODED
    assert [m.seq for m in dec.feed(b"\x00" + P.ack(1, 4))] == [4]
    assert dec.errors["TooLongError"] == 1


def test_payload_too_large_is_refused() -> None:
    with pytest.raises(P.TooLongError):
        P.read(1, 1, b"x" * P.MAX_PAYLOAD)


def test_wrong_version_is_a_protocol_error() -> None:
    body = bytes([2, P.ACK, 0, 1, 0, 1, 0, 0, 0])
    frame = P.cobs_encode(body + P.crc32(body).to_bytes(4, "little"))
    with pytest.raises(P.VersionError):
        P.decode_frame(frame)


def test_malformed_bodies_raise_body_errors() -> None:
    for wire, parse in [(P.encode(P.READ, 1, b"\x05ab"), P.parse_read),
                        (P.encode(P.FRAME_START, 1, b"\x00" * 3), P.parse_frame_start),
                        (P.encode(P.FRAME_START, 1, bytes(13)), P.parse_frame_start),
                        (P.encode(P.FRAME_END, 1, b""), P.parse_frame_end),
                        (P.encode(P.STATUS, 1, b"\xff{"), P.Message.json)]:
        (msg,) = P.Decoder().feed(wire)
        if parse is P.parse_frame_start and len(msg.payload) == 13:
            msg.payload = b"\x07" + msg.payload[1:]
        with pytest.raises(P.BodyError):
            parse(msg)


def test_a_million_random_bytes_raise_nothing_but_protocol_errors() -> None:
    rng = random.Random(1)
    data = rng.randbytes(1_000_000)
    dec = P.Decoder()
    pos = 0
    parsers = {P.READ: P.parse_read, P.FRAME_START: P.parse_frame_start, P.FRAME_CHUNK: P.parse_frame_chunk,
               P.FRAME_END: P.parse_frame_end, P.STATUS: P.Message.json}
    while pos < len(data):
        n = rng.randrange(1, 4096)
        for msg in dec.feed(data[pos:pos + n]):
            try:
                parsers.get(msg.type, lambda m: None)(msg)
            except P.ProtocolError:
                pass
        pos += n
    for start in range(0, 200_000, 997):         # whole frames, decoded directly
        try:
            P.decode_frame(data[start:start + rng.randrange(0, 300)])
        except P.ProtocolError:
            pass
    assert sum(dec.errors.values()) > 1000


def test_outbox_resends_until_acked_with_backoff() -> None:
    box = P.Outbox(reader=3, capacity=2, retry_ms=100, max_retry_ms=400)
    assert box.add(1, b"a") and box.add(2, b"b") and not box.add(3, b"c")
    first = P.Decoder().feed(b"".join(box.due(0)))
    assert [(m.seq, m.flags) for m in first] == [(1, 0)]         # one read on the wire at a time
    assert box.due(50) == []
    assert box.ack(1) and not box.ack(1)
    assert [(m.seq, m.flags) for m in P.Decoder().feed(b"".join(box.due(60)))] == [(2, 0)]
    assert box.due(150) == []
    again = P.Decoder().feed(b"".join(box.due(160)))
    assert [(m.seq, m.flags) for m in again] == [(2, P.FLAG_RETRANSMIT)]
    assert box.due(350) == [] and len(box.due(360)) == 1        # interval doubled to 200
    box.ack(2)
    assert len(box) == 0 and box.add(3, b"c")


def test_outbox_sends_the_next_read_only_once_the_oldest_is_acknowledged() -> None:
    """Reading order, not seq order (a reboot starts seqs anywhere): a host that lost read 900 (its serial
    port opened after it went out) cannot journal 5 and 6 before it."""
    box = P.Outbox(reader=3, retry_ms=500, max_retry_ms=4000)
    box.add(900, b"a")
    assert [m.seq for m in P.Decoder().feed(b"".join(box.due(0)))] == [900]
    box.add(5, b"b")
    assert box.due(100) == []                                   # 900 went out 100 ms ago: its ACK may be coming
    assert [(m.seq, m.flags) for m in P.Decoder().feed(b"".join(box.due(500)))] == [(900, P.FLAG_RETRANSMIT)]
    box.add(6, b"c")                                            # 900 now waits 1 s; a new read makes it due...
    assert box.due(900) == []                                   # ...once it went out retry_ms ago
    assert [m.seq for m in P.Decoder().feed(b"".join(box.due(1000)))] == [900]
    box.ack(900)
    assert [(m.seq, m.flags) for m in P.Decoder().feed(b"".join(box.due(1001)))] == [(5, 0)]
    assert [seq for seq, *_ in box.records()] == [5, 6]


def test_docs_examples_match_the_encoder() -> None:
    import re

    from conftest import REPO
    doc = (REPO / "docs" / "protocol.md").read_text(encoding="utf-8")
    examples = re.findall(r"^>>> (.+)\n([0-9a-f ]+)$", doc, re.M)
    assert len(examples) >= 5
    for call, hexed in examples:
        assert eval(call, {"P": P, "S": secure}).hex(" ") == hexed, call
