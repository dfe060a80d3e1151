"""Attacks on a running bridge, tried as a rogue reader, a hostile webhook host and a slow client would; each
returns figures for `tools/reliability.py attacks` (docs/reliability.md, "Attacks") and the tests.

    frame_bombs     a rogue TCP "reader" (paired, so past the handshake) announces huge and unfinished frames,
                    then sends a valid READ; an honest reader on another link keeps reading: peak bridge memory
                    above idle, ACK times (frames for other reader ids than its own are refused by the link)
    tcp_junk        megabytes of junk before a READ on a TCP link: time to ACK, link throughput, against
                    pyserial's socket:// (read one byte per poll) in the same run
    redirects       webhook hosts answering 301/302/303/307/308 to another host: requests that reached it
    slow_clients    1,100 half-sent HTTP requests on the API: health probe latency, bridge file descriptors

Pairing (issue 13 item 2: unpaired peers, forged READs, CONFIG_SET from strangers): link_attacks.py, listed
beside these in `tools/reliability.py attacks`.
"""

from __future__ import annotations

import contextlib
import os
import resource
import socket
import statistics
import struct
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import serial

from firmware import protocol as P
from firmware import secure
from host_bridge.bridge.pairing import PairingStore
from host_bridge.bridge.sinks.webhook import WebhookError, WebhookSink
from host_bridge.link.reader_link import ReaderLink
from host_bridge.link.tcp_stream import TcpStream
from host_bridge.payloads.lookup import build_lookup
from host_bridge.testbench.fault_rig import TOKEN, Bridge
from host_bridge.testbench.link_attacks import reader_handshake

MB = 1024 * 1024


class RogueReader:
    """A TCP endpoint at a `tcp://` address the bridge connects to, as a Wi-Fi reader's would be: a paired reader
    (`reader` id, `key` in the bridge's pairing store) gone rogue, so what it sends gets past the handshake and is
    sealed (an unpaired one gets nothing at all past it: tests/bridge/test_pairing.py)."""

    def __init__(self, reader: int, key: bytes) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.device = f"tcp://127.0.0.1:{self.server.getsockname()[1]}"
        self.reader, self.key = reader, key
        self.sock: socket.socket | None = None
        self.session: secure.Session | None = None
        self._acks: dict[tuple[int, int], float] = {}
        self._cond = threading.Condition()

    def accept(self, timeout_s: float = 30) -> None:
        self.server.settimeout(timeout_s)
        self.sock, _ = self.server.accept()
        self.session = reader_handshake(self.sock, self.key, self.reader)
        threading.Thread(target=self._read_acks, daemon=True).start()

    def _read_acks(self) -> None:
        decoder = P.Decoder()
        with contextlib.suppress(OSError):
            while data := self.sock.recv(65536):  # type: ignore[union-attr]
                for sealed in decoder.feed(data):
                    msg, _ = self.session.open(sealed)  # type: ignore[union-attr]
                    if msg.type == P.ACK:
                        with self._cond:
                            self._acks[(msg.reader, msg.seq)] = time.monotonic()
                            self._cond.notify_all()

    def seal(self, data: bytes) -> bytes:
        """Each frame of `data` sealed, as the paired reader's link sends it."""
        seal = self.session.seal  # type: ignore[union-attr]
        return b"".join(seal(f + b"\x00") for f in data.split(b"\x00") if f)

    def send(self, data: bytes, sealed: bool = False) -> None:
        self.sock.sendall(data if sealed else self.seal(data))  # type: ignore[union-attr]

    def ack_time(self, reader: int, seq: int, timeout_s: float = 60) -> float | None:
        """When the ACK of (reader, seq) arrived (monotonic), or None if it did not within `timeout_s`."""
        with self._cond:
            self._cond.wait_for(lambda: (reader, seq) in self._acks, timeout_s)
            return self._acks.get((reader, seq))

    def close(self) -> None:
        for s in (self.sock, self.server):
            if s:
                s.close()


def _status(pid: int, field: str) -> int:
    """A /proc/<pid>/status figure in kB (VmRSS: now, VmHWM: peak since the last reset)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _start(reader: int, frame_id: int, kind: int, width: int, height: int, length: int) -> bytes:
    return bytes(P.encode(P.FRAME_START, frame_id, struct.pack("<BHHII", kind, width, height, length, 0), reader))


def bombs() -> dict[str, bytes]:
    """What a rogue reader sends: each announces far more than it costs on the wire."""
    chunk = b"\xff" * P.CHUNK
    filling = bytearray()
    for reader in range(1, 65):            # 64 reader ids on one link, each a UXGA JPEG filled to 1.5 MB
        for frame in (1, 2, 3):
            filling += _start(reader, frame, P.JPEG, 1600, 1200, 1_900_000)
            filling += b"".join(P.encode(P.FRAME_CHUNK, frame, struct.pack("<I", off) + chunk, reader)
                                for off in range(0, 1_500_000, P.CHUNK)) if reader <= 4 else b""
    return {"20,000 unfinished VGA gray frame starts": b"".join(_start(7, n, P.GRAY8, 640, 480, 640 * 480)
                                                               for n in range(20_000)),
            "one 65535x65535 gray frame start": _start(8, 1, P.GRAY8, 65535, 65535, 65535 * 65535),
            "one 4 GB JPEG frame start": _start(9, 1, P.JPEG, 0, 0, 0xFFFFFFFF),
            "192 frame starts from 64 reader ids, 18 MB of chunks": bytes(filling)}


def frame_bombs(workdir: Path) -> dict[str, Any]:
    """The bombs from a rogue link, then a valid READ behind them; an honest reader on its own link reads
    every 50 ms meanwhile. Peak memory is the bridge's VmHWM (reset once idle) above its idle VmRSS."""
    rogue, honest = RogueReader(7, os.urandom(32)), RogueReader(2, os.urandom(32))
    store = PairingStore(workdir / "pairings.json")
    for r in (rogue, honest):
        store.add(r.reader, r.key)
    bridge = Bridge(workdir, [rogue.device, honest.device], f'pairings = "{store.path}"\n[epu]\nenabled = false\n')
    fig: dict[str, Any] = {}
    try:
        rogue.accept()
        honest.accept()
        honest.send(P.read(2, 1, b"HONEST-0"))
        honest.ack_time(2, 1)
        time.sleep(1.0)
        pid = bridge.proc.pid
        idle = _status(pid, "VmRSS")
        Path(f"/proc/{pid}/clear_refs").write_text("5")      # VmHWM := VmRSS
        wire = bombs()
        fig["bombs tried"] = len(wire)
        fig["bytes on the wire"] = sum(map(len, wire.values()))
        fig["bytes announced"] = 20_000 * 640 * 480 + 65535 * 65535 + 0xFFFFFFFF + 192 * 1_900_000
        honest_ms: list[float] = []
        stop = threading.Event()

        def honest_reads() -> None:
            seq = 2
            while not stop.is_set():
                sent = time.monotonic()
                honest.send(P.read(2, seq, f"HONEST-{seq}".encode()))
                got = honest.ack_time(2, seq, 30)
                honest_ms.append((got - sent) * 1000 if got else 30_000)
                seq += 1
                stop.wait(0.05)
        sealed = [rogue.seal(data) for data in wire.values()] + [rogue.seal(P.read(7, 1, b"VALID-READ-BEHIND-BOMBS"))]
        thread = threading.Thread(target=honest_reads)
        thread.start()
        sent = time.monotonic()
        for data in sealed:                 # sealed beforehand: the clock times the bridge, not the attacker
            rogue.send(data, sealed=True)
        acked = rogue.ack_time(7, 1)
        stop.set()
        thread.join()
        fig["valid READ behind them: ACK after (s)"] = round(acked - sent, 2) if acked else "never"
        fig["honest reader meanwhile: reads, ACK p50/max (ms)"] = \
            f"{len(honest_ms)}, {statistics.median(honest_ms):.0f}/{max(honest_ms):.0f}"
        fig["peak bridge memory above idle (MB)"] = round((_status(pid, "VmHWM") - idle) / 1024, 1)
        fig["bound (MB)"] = 64
        fig["bridge still answering"] = int(bridge.get("/api/health") is not None)
        fig["READs journaled"] = len(bridge.lookups())
    finally:
        bridge.stop()
        rogue.close()
        honest.close()
    return fig


def _link_drain(stream: Any, peer: socket.socket, junk: int) -> float:
    """Seconds for a ReaderLink on `stream` to get through `junk` bytes and ACK the READ behind them."""
    acked = threading.Event()
    link = ReaderLink(stream, lambda *a: None)
    stop = threading.Event()
    thread = threading.Thread(target=link.run, args=(stop,), daemon=True)
    thread.start()
    t0 = time.monotonic()
    peer.sendall(b"\x01" * junk + b"\x00" + P.read(1, 1, b"AFTER-JUNK"))
    decoder = P.Decoder()
    peer.settimeout(300)
    while not acked.is_set():
        if any(m.type == P.ACK for m in decoder.feed(peer.recv(4096))):
            acked.set()
    took = time.monotonic() - t0
    stop.set()
    thread.join(5)
    return took


def tcp_junk(mb: float = 4.0, before_mb: float = 0.25) -> dict[str, Any]:
    """Junk before a READ on a TCP reader link, through TcpStream (now) and pyserial socket:// (before)."""
    fig: dict[str, Any] = {}
    for label, opener, size in (("pyserial socket:// (before)", lambda url: serial.serial_for_url(
            "socket://" + url[6:], timeout=0.2), int(before_mb * MB)), ("TcpStream (now)", TcpStream, int(mb * MB))):
        server = socket.create_server(("127.0.0.1", 0))
        url = f"tcp://127.0.0.1:{server.getsockname()[1]}"
        stream = opener(url)
        peer, _ = server.accept()
        try:
            took = _link_drain(stream, peer, size)
        finally:
            stream.close()
            peer.close()
            server.close()
        fig[f"{label}: {size / MB:g} MB of junk, ACK after (s)"] = round(took, 2)
        fig[f"{label}: throughput (KB/s)"] = round(size / 1024 / took)
    return fig


def redirects(n: int = 10) -> dict[str, Any]:
    """Lookups to webhooks that redirect to another host, each status: requests that reached that host."""
    reached: list[dict[str, str]] = []

    class Elsewhere(BaseHTTPRequestHandler):
        def _any(self) -> None:
            reached.append(dict(self.headers))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
        do_GET = do_POST = _any

        def log_message(self, *args: object) -> None:
            pass

    elsewhere = ThreadingHTTPServer(("127.0.0.1", 0), Elsewhere)
    codes = (301, 302, 303, 307, 308)
    tried = failed = 0

    class Lgo(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(codes[tried % len(codes)])
            self.send_header("Location", f"http://127.0.0.1:{elsewhere.server_port}/collect")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    lgo = ThreadingHTTPServer(("127.0.0.1", 0), Lgo)
    for server in (elsewhere, lgo):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    sink = WebhookSink(f"http://127.0.0.1:{lgo.server_port}/lookups", token="lgo-bearer-token")
    try:
        for i in range(n * len(codes)):
            tried = i
            try:
                sink.deliver(build_lookup(f"code {i}".encode(), source={"reader": "r1", "read_id": str(i)}))
            except WebhookError:
                failed += 1
    finally:
        lgo.shutdown()
        elsewhere.shutdown()
    return {"redirects answered (301/302/303/307/308)": n * len(codes), "counted as failed deliveries": failed,
            "requests that reached the other host": len(reached),
            "redirects followed with credentials": sum("Authorization" in h for h in reached)}


def slow_clients(workdir: Path, connections: int = 1100, probes: int = 100) -> dict[str, Any]:
    """`connections` half-sent requests held open on the real bridge's API, then `probes` health requests."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, connections + 256)), hard))
    bridge = Bridge(workdir, [], "[epu]\nenabled = false\n")
    held: list[socket.socket] = []
    lat: list[float] = []
    failures = 0
    try:
        for _ in range(connections):
            s = socket.create_connection(("127.0.0.1", bridge.port), 5)
            s.sendall(f"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1:{bridge.port}\r\nX-Slow: ".encode())
            held.append(s)
        fds = len(os.listdir(f"/proc/{bridge.proc.pid}/fd"))
        for _ in range(probes):
            t0 = time.monotonic()
            request = urllib.request.Request(f"http://127.0.0.1:{bridge.port}/api/health",
                                             headers={"Authorization": f"Bearer {TOKEN}"})
            try:
                with urllib.request.urlopen(request, timeout=5) as r:
                    r.read()
                lat.append((time.monotonic() - t0) * 1000)
            except (urllib.error.URLError, OSError):
                failures += 1
    finally:
        for s in held:
            s.close()
        bridge.stop()
    lat.sort()
    return {"half-sent requests held open": connections, "bridge file descriptors meanwhile": fds,
            "health probes": probes, "probes failed": failures,
            "probe p50 / p99 (ms)": f"{statistics.median(lat):.0f} / {lat[int(len(lat) * 0.99) - 1]:.0f}" if lat else "-"}
