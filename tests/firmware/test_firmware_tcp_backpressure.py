"""`tcp` output against a host that stops reading: the scan loop keeps running without spinning on the full
socket, and every read arrives exactly once when the host resumes, or reconnects after vanishing."""

from __future__ import annotations

import asyncio
import socket

import pytest

from firmware import board, config
from firmware.feedback import Feedback
from firmware.outputs.tcp import TcpOutput
from firmware.scan import ScanLoop
from host_bridge.testbench.fault_rig import free_port
from host_bridge.link.reader_link import ReaderLink
from reader_doubles import PAIRED, Codes, SocketStream, authenticate, paired_keys

READS = [b"TCP-%02d|" % i + bytes([65 + i % 26]) * 1500 for i in range(20)]


def reader():
    cfg = dict(config.defaults(), output="tcp", tcp_port=free_port(), heartbeat_ms=1, change_threshold=0,
               decode="board", outbox_max=32, **PAIRED)
    feedback = Feedback({})
    out = TcpOutput(cfg, board.SIM, ip="127.0.0.1", feedback=feedback)
    codes = Codes(READS, forever=True)
    return ScanLoop(cfg, codes, codes, out, feedback), out, feedback


def host_socket(port: int) -> socket.socket:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)      # a small window fills fast
    s.connect(("127.0.0.1", port))
    s.setblocking(False)
    return s


async def connect(loop: ScanLoop, out: TcpOutput, got: list[bytes]) -> tuple[socket.socket, ReaderLink]:
    """A paired host, connected and authenticated (it reads until then), collecting reads in `got`."""
    host = host_socket(out.cfg["tcp_port"])
    while out.socket.conn is None:
        await loop.step()
    out.socket.conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    link = ReaderLink(SocketStream(host), lambda r, s, p, m: got.append(p), keys=paired_keys)
    await authenticate(loop.step, link, host)
    return host, link


async def stall(loop: ScanLoop, out: TcpOutput, steps: int) -> tuple[int, int]:
    """Scan `steps` frames while nobody reads; (send attempts, frames scanned) in the second half. The first
    half is paced (heartbeat_ms is 1) so heartbeats fill the socket: only one READ is on the wire at a time."""
    for _ in range(steps // 2):
        await loop.step()
        await asyncio.sleep(0.002)
    sends, frames = out.socket.sends, loop.stats["frames"]
    for _ in range(steps - steps // 2):
        await loop.step()
    return out.socket.sends - sends, loop.stats["frames"] - frames


async def resume(loop: ScanLoop, out: TcpOutput, link: ReaderLink, host: socket.socket) -> None:
    for _ in range(3000):
        await loop.step()
        link.feed(SocketStream(host).read(65536))
        if not len(out.outbox):
            return
        await asyncio.sleep(0.002)


def close(out: TcpOutput, *socks: socket.socket) -> None:
    for s in socks:
        s.close()
    out.socket.srv.close()
    if out.mdns:
        out.mdns.close()


@pytest.mark.timeout(120)
def test_a_host_that_stops_reading_neither_blocks_nor_spins_the_loop_and_gets_every_read_once() -> None:
    loop, out, feedback = reader()
    got: list[bytes] = []

    async def scenario() -> tuple[int, int, int]:
        host, link = await connect(loop, out, got)
        sends, frames = await stall(loop, out, 600)
        backlog = out.socket.backlog()
        await resume(loop, out, link, host)
        assert link.errors == {}                # whole messages only: the stream never tore
        close(out, host)
        return sends, frames, backlog

    sends, frames, backlog = asyncio.run(scenario())
    assert frames == 300                        # the loop kept scanning while the socket was full
    assert backlog > 0 and out.socket.dropped > 0  # the socket did fill: heartbeats and resends dropped whole
    assert sends <= 5                           # ... and no send attempt burned on it (a spin makes thousands)
    assert got == READS                         # each once, in reading order
    assert feedback.counts["good"] == len(READS) and len(out.outbox) == 0


@pytest.mark.timeout(120)
def test_a_host_that_vanishes_is_dropped_and_the_next_one_gets_the_outbox() -> None:
    loop, out, _ = reader()
    got: list[bytes] = []

    async def scenario() -> None:
        host, _ = await connect(loop, out, got)
        await stall(loop, out, 100)
        assert len(out.outbox) == len(READS)
        host.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        host.close()                            # reset with unread data: the host is gone
        for _ in range(200):
            await loop.step()
            if out.socket.conn is None:
                break
        assert out.socket.conn is None and len(out.outbox) == len(READS)
        assert not out.port.ready()             # the paired session went with the connection: nothing is sealed
        host, link = await connect(loop, out, got)
        await resume(loop, out, link, host)
        assert "framed" in link.readers[1]["caps"]  # the new host was greeted with HELLO
        close(out, host)

    asyncio.run(scenario())
    assert got == READS and len(out.outbox) == 0
