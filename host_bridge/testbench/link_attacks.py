"""Attacks on the reader <-> bridge TCP link, against the real firmware's tcp output and the real bridge:
a LAN stranger who connects to a Wi-Fi reader before the bridge does, and a fake reader at the bridge's
tcp:// address. Used by tests/test_pairing.py and `tools/reliability.py pairing`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any, cast

from firmware import board, config, secure
from firmware import protocol as P
from firmware.outputs.tcp import TcpOutput
from host_bridge.bridge.pairing import PairingStore
from host_bridge.link.reader_link import ReaderLink
from host_bridge.testbench.fault_rig import Bridge, free_port, wait_until


class SocketStream:
    """A socket as a ReaderLink stream, waiting at most `timeout` for bytes (b"" when none came)."""

    def __init__(self, sock: socket.socket, timeout: float = 0.05) -> None:
        self.sock = sock
        sock.settimeout(timeout)

    def read(self, n: int) -> bytes:
        try:
            return self.sock.recv(n)
        except OSError:                 # nothing came in time, or the peer hung up
            return b""

    def write(self, data: bytes) -> None:
        with contextlib.suppress(OSError):      # hung up on: what was sent is what counts
            self.sock.sendall(data)


def reader_handshake(sock: socket.socket, key: bytes, reader: int, timeout_s: float = 10.0) -> secure.Session:
    """The genuine paired reader's end of the handshake on a raw socket (a test peer that then sends what it
    likes, sealed); the challenge again each second until the host answers, as the firmware does."""
    auth = secure.ReaderAuth(key, reader)
    dec = P.Decoder()
    sock.settimeout(1.0)
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        sock.sendall(auth.challenge())
        try:
            data = sock.recv(4096)
        except TimeoutError:
            continue
        for msg in dec.feed(data):
            ok = auth.respond(msg) if msg.type == P.AUTH_RESPONSE else None
            if ok is not None:
                sock.sendall(ok)
                sock.settimeout(None)
                return cast(secure.Session, auth.session)
    raise TimeoutError("the host did not answer the challenge with the right proof")


class TcpReader:
    """The real firmware's tcp output on 127.0.0.1 (paired with `key`, or unpaired), `payloads` read and
    waiting in its outbox, polled in a thread until close()."""

    def __init__(self, payloads: list[bytes], key: bytes | None, workdir: Path, port: int | None = None,
                 reader_id: int = 1) -> None:
        cfg = config.defaults() | {"output": "tcp", "tcp_port": port or free_port(), "reader_id": reader_id,
                                   "pair_key": key.hex() if key else "", "outbox_max": max(16, len(payloads))}
        self.port = cfg["tcp_port"]
        self.out = TcpOutput(cfg, board.SIM, ip="127.0.0.1")
        if self.out.mdns:
            self.out.mdns.close()
            self.out.mdns = None
        self.config_file = workdir / "reader-config.json"
        self.out.config_path = str(self.config_file)     # where a CONFIG_SET would be saved
        self.out.outbox.retry_ms = 50
        self.name = cfg["name"]
        self._stop = threading.Event()
        self._emitted = threading.Event()
        self.thread = threading.Thread(target=asyncio.run, args=(self._run(payloads),), daemon=True)
        self.thread.start()
        self._emitted.wait(10)

    async def _run(self, payloads: list[bytes]) -> None:
        for i, p in enumerate(payloads):
            await self.out.emit(p, "qr", "test", 1000 * i)
        self._emitted.set()
        while not self._stop.is_set():
            self.out.poll()
            await asyncio.sleep(0.002)

    def waiting(self) -> int:
        return len(self.out.outbox)

    def config_changed(self) -> bool:
        return self.config_file.exists() or self.out.cfg["name"] != self.name

    def close(self) -> None:
        self._stop.set()
        self.thread.join(5)
        self.out.socket.srv.close()
        self.out.socket.hangup()


def stranger(port: int, listen_s: float = 0.5) -> dict[str, Any]:
    """A LAN peer without the key connects first, listens, ACKs every READ it sees, sends CONFIG_SET and a made-up
    AUTH_RESPONSE. What it obtained: the message types it received and the READs among them."""
    seen: list[P.Message] = []
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        stream = SocketStream(sock)
        dec = P.Decoder()
        end = time.monotonic() + listen_s
        while time.monotonic() < end:
            for msg in dec.feed(stream.read(65536)):
                seen.append(msg)
                if msg.type == P.READ:
                    stream.write(P.ack(msg.reader, msg.seq))
        for seq in range(1, 64):                     # blind ACKs too, and ACKs of sealed counters
            stream.write(P.ack(1, seq))
        stream.write(P.config_set(1, {"name": "stranger", "output": "line"}))
        stream.write(P.encode(P.AUTH_RESPONSE, 0, os.urandom(48), 1))
        end = time.monotonic() + listen_s
        while time.monotonic() < end:
            seen += dec.feed(stream.read(65536))
    return {"received": sorted({m.name for m in seen}), "reads_obtained": sum(m.type == P.READ for m in seen)}


def paired_host(port: int, key: bytes, want: int, timeout_s: float = 10.0) -> list[bytes]:
    """The bridge's side (a ReaderLink with the key) connects and collects reads until `want` came."""
    got: list[bytes] = []
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        link = ReaderLink(SocketStream(sock), lambda r, s, p, m: got.append(p), keys=lambda rid: key)
        end = time.monotonic() + timeout_s
        while len(got) < want and time.monotonic() < end:
            link.poll()
    return got


def stranger_first(workdir: Path, reads: int = 2) -> dict[str, Any]:
    """A paired reader with `reads` waiting; a stranger connects first, then the bridge."""
    key = os.urandom(32)
    payloads = [b"READ-%03d" % i for i in range(reads)]
    reader = TcpReader(payloads, key, workdir)
    try:
        fig = stranger(reader.port)
        fig["config_set_accepted"] = int(reader.config_changed())
        fig["reads_left_on_the_reader"] = reader.waiting()
        got = paired_host(reader.port, key, reads)
        fig["bridge_got_after"] = len(got)
        fig["bridge_got_all_in_order"] = got == payloads
    finally:
        reader.close()
    return fig


def unpaired_reader(workdir: Path) -> dict[str, Any]:
    """A reader never paired, with a read waiting: what any network peer (even one with a key) gets."""
    reader = TcpReader([b"UNPAIRED-1"], None, workdir)
    try:
        fig = stranger(reader.port)
        fig["reads_left_on_the_reader"] = reader.waiting()
    finally:
        reader.close()
    return fig


class FakeReader:
    """A server at the bridge's tcp:// address posing as paired reader 1 without its key: on each connection it
    sends a HELLO and `n` plain READs, answers the handshake with a made-up proof, then sends `n` made-up SEALED
    READs and `n` plain ones again."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(1)
        self.port = self.srv.getsockname()[1]
        self.sent = 0
        self.connections = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            sock, _ = self.srv.accept()
        except OSError:
            return
        self.connections += 1
        with sock:
            reads = b"".join(P.read(1, 1000 + i, b"FORGED-%03d" % i, "qr", "fake", 10 * i) for i in range(self.n))
            challenge = P.encode(P.AUTH_CHALLENGE, 0, b"\x01" + os.urandom(16), 1)
            sock.settimeout(1)
            sent = 0
            for _ in range(20):                 # as a reader does, again until answered (pyserial's open
                sock.sendall(P.hello(1, "sim", ["framed", "tcp"], 1000) + reads + challenge)    # drops input)
                sent += self.n
                try:
                    if sock.recv(4096):         # the bridge's AUTH_RESPONSE
                        break
                except OSError:
                    pass
            sock.sendall(P.encode(P.AUTH_OK, 0, os.urandom(32), 1))
            sealed = [P.encode(P.SEALED, i + 1, os.urandom(40), 1) for i in range(self.n)]
            sock.sendall(b"".join(sealed) + reads)
            self.sent = sent + 2 * self.n
            sock.settimeout(5)
            with contextlib.suppress(OSError):
                sock.recv(4096)

    def close(self) -> None:
        self.srv.close()


def fake_endpoint(workdir: Path, n: int = 200) -> dict[str, Any]:
    """The real bridge (`electeur run`) pointed at a fake reader's address; then the genuine paired reader takes
    the address back. Forged READs journaled, and the genuine reader's reads journaled after it."""
    key = os.urandom(32)
    PairingStore(workdir / "pairings.json").add(1, key, "comptoir", "sim")
    fake = FakeReader(n)
    bridge = Bridge(workdir, f"tcp://127.0.0.1:{fake.port}", f'pairings = "{workdir / "pairings.json"}"\n')
    try:
        wait_until(lambda: fake.sent >= 3 * n, 30, "the fake reader's messages")
        wait_until(lambda: bridge.grep("refused"), 10, "the bridge refusing the fake reader")
        forged = len(bridge.lookups())
        device = (bridge.get("/api/devices") or {}).get("devices", [{}])[0]
        fake.close()
        genuine = TcpReader([b"GENUINE-1", b"GENUINE-2"], key, workdir, port=fake.port)
        try:
            wait_until(lambda: len(bridge.lookups()) >= forged + 2, 30, "the genuine reader's reads")
        finally:
            genuine.close()
        return {"forged_sent": fake.sent, "forged_journaled": forged, "bridge_said": device.get("error"),
                "genuine_journaled_after": len(bridge.lookups()) - forged}
    finally:
        fake.close()
        bridge.stop()
