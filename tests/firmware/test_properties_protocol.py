"""Wire protocol properties: every message survives the round trip through the streaming decoder, however the
bytes are split, and arbitrary bytes only ever produce counted protocol errors, never an exception."""

from hypothesis import given, settings, strategies as st

from firmware import protocol as P

FAST = settings(max_examples=200, deadline=None)
TYPES = st.sampled_from(sorted(P.NAMES))
PARSERS = {P.READ: P.parse_read, P.FRAME_START: P.parse_frame_start, P.FRAME_CHUNK: P.parse_frame_chunk,
           P.FRAME_END: P.parse_frame_end, P.STATUS: P.Message.json, P.HELLO: P.Message.json,
           P.CONFIG: P.Message.json, P.CONFIG_SET: P.Message.json, P.ERROR: P.Message.json}


def _feed_in_pieces(dec: P.Decoder, wire: bytes, cuts: list[int]) -> list[P.Message]:
    out: list[P.Message] = []
    points = sorted({c % (len(wire) + 1) for c in cuts} | {0, len(wire)})
    for a, b in zip(points, points[1:]):
        out += dec.feed(wire[a:b])
    return out


@FAST
@given(mtype=TYPES, seq=st.integers(0, 2**32 - 1), reader=st.integers(0, 65535), flags=st.integers(0, 255),
       payload=st.binary(max_size=P.MAX_PAYLOAD), cuts=st.lists(st.integers(0, 10_000), max_size=8))
def test_any_message_round_trips_however_the_stream_is_split(mtype, seq, reader, flags, payload, cuts) -> None:
    wire = P.encode(mtype, seq, payload, reader, flags)
    assert wire.count(b"\x00") == 1 and wire.endswith(b"\x00")      # the delimiter appears once, at the end
    dec = P.Decoder()
    [msg] = _feed_in_pieces(dec, wire, cuts)
    assert (msg.type, msg.seq, msg.reader, msg.flags, msg.payload) == (mtype, seq, reader, flags, payload)
    assert dec.errors == {}


@FAST
@given(data=st.binary(max_size=3000), fmt=st.text(max_size=20), engine=st.text(max_size=20),
       captured=st.integers(0, 2**32 - 1), seq=st.integers(0, 2**32 - 1))
def test_read_body_keeps_exact_bytes_and_meta(data, fmt, engine, captured, seq) -> None:
    [msg] = P.Decoder().feed(P.read(7, seq, data, fmt, engine, captured))
    assert P.parse_read(msg) == (data, {"format": fmt, "engine": engine, "captured_ms": captured})


@FAST
@given(garbage=st.binary(max_size=2000), payload=st.binary(max_size=500))
def test_garbage_before_a_frame_costs_at_most_the_garbage(garbage, payload) -> None:
    """After any garbage, a delimiter resynchronises: the next good frame is delivered intact."""
    dec = P.Decoder()
    dec.feed(garbage)
    msgs = dec.feed(b"\x00" + P.read(1, 42, payload))
    assert msgs and msgs[-1].seq == 42 and P.parse_read(msgs[-1])[0] == payload


@FAST
@given(chunks=st.lists(st.binary(max_size=600), max_size=12))
def test_arbitrary_bytes_raise_nothing_and_parsers_raise_only_protocol_errors(chunks) -> None:
    dec = P.Decoder()
    for chunk in chunks:
        for msg in dec.feed(chunk):
            try:
                PARSERS.get(msg.type, lambda m: None)(msg)
            except P.ProtocolError:
                pass
    assert all(issubclass(getattr(P, name), P.ProtocolError) for name in dec.errors)


@FAST
@given(frame=st.binary(max_size=P.MAX_ENCODED + 50))
def test_decode_frame_raises_only_protocol_errors(frame) -> None:
    try:
        P.decode_frame(frame)
    except P.ProtocolError:
        pass


@FAST
@given(payload=st.binary(min_size=1, max_size=400), pos=st.integers(0, 10_000), bit=st.integers(0, 7))
def test_a_flipped_bit_is_never_delivered_as_a_different_read(payload, pos, bit) -> None:
    wire = bytearray(P.read(1, 5, payload))
    i = pos % (len(wire) - 1)                   # leave the delimiter alone
    wire[i] ^= 1 << bit
    for msg in P.Decoder().feed(bytes(wire) + b"\x00"):
        assert msg.type == P.READ and msg.seq == 5 and P.parse_read(msg)[0] == payload
