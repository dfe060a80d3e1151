"""A Wi-Fi reader's TCP link is read in whole buffers: junk from a rogue peer does not stall a READ behind it."""

from __future__ import annotations

import socket
import time

from firmware import protocol as P
from host_bridge.bridge.config import Config
from host_bridge.bridge.pairing import PairingStore
from host_bridge.bridge.redact import Redactor
from host_bridge.bridge.service import Bridge
from host_bridge.testbench.link_attacks import reader_handshake

KEY = bytes(range(32))


def test_a_read_behind_two_megabytes_of_junk_is_journaled_and_acked_within_seconds(tmp_path):
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(10)
    PairingStore(tmp_path / "pairings.json").add(5, KEY)
    bridge = Bridge(Config(journal=tmp_path / "j.sqlite", journal_key=tmp_path / "k", epu=None,
                           pairings=tmp_path / "pairings.json"), "t" * 20, Redactor())
    bridge.add_port(f"tcp://127.0.0.1:{server.getsockname()[1]}")
    try:
        peer, _ = server.accept()
        session = reader_handshake(peer, KEY, 5)          # the paired reader (docs/security.md), then the junk
        peer.settimeout(30)
        t0 = time.monotonic()
        peer.sendall(b"\x01" * 2_000_000 + b"\x00" + session.seal(P.read(5, 1, b"RX-AFTER-JUNK")))
        got = P.Decoder()
        acks: list = []
        while not acks:
            acks = [m for m in (session.open(s)[0] for s in got.feed(peer.recv(4096))) if m.type == P.ACK]
        took = time.monotonic() - t0
        peer.close()
    finally:
        bridge.ports.popitem()[1].stop()
        server.close()
    lookups, _ = bridge.journal.after(None)
    bridge.journal.close()
    assert [lk["text"] for lk in lookups] == ["RX-AFTER-JUNK"] and (acks[0].reader, acks[0].seq) == (5, 1)
    assert took < 5, f"{took:.1f} s to get through 2 MB (one byte per poll took ~45 s)"
