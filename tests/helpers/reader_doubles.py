"""Test doubles around the real firmware: the host's ends of a reader link (a byte port the reader writes
to, a socket as a ReaderLink stream) and a camera whose frames decode to given payloads."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from firmware import protocol as P

PAIR_KEY = bytes(range(32))             # the pairing key of the test readers (config "pair_key")
PAIRED = {"pair_key": PAIR_KEY.hex()}


def paired_keys(reader_id: int) -> bytes:
    """A host's pairing store holding PAIR_KEY for every reader id."""
    return PAIR_KEY


class HostPort:
    """The reader's port in a test: what the reader wrote, and bytes queued for it to read."""

    def __init__(self) -> None:
        self.written = b""
        self.inbox = b""
        self.closed = False

    def write(self, data: bytes) -> None:
        self.written += data

    def read(self) -> bytes:
        data, self.inbox = self.inbox, b""
        return data

    def take(self) -> list[P.Message]:
        """The messages written since the last take."""
        data, self.written = self.written, b""
        return P.Decoder().feed(data)


class SocketStream:
    """A non-blocking socket as a ReaderLink stream: nothing to read yet is b"", not an error."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def read(self, n: int) -> bytes:
        try:
            return self.sock.recv(n)
        except BlockingIOError:
            return b""

    def write(self, data: bytes) -> None:
        self.sock.sendall(data)


async def authenticate(step: Callable[[], Awaitable[Any]], link: Any, sock: socket.socket, steps: int = 2000) -> None:
    """Run the reader (`step`) and feed `link` what `sock` receives until the paired handshake is done."""
    for _ in range(steps):
        await step()
        link.feed(SocketStream(sock).read(65536))
        if link.authenticated:
            return
        await asyncio.sleep(0.002)
    raise AssertionError(f"no paired handshake: {link.auth_error}")


class Codes:
    """Camera and decoder in one: each frame decodes to the next payload, 5 s apart on the capture clock (never
    deduplicated). Once they are all read the camera ends (the scan loop stops), or with `forever` it keeps
    giving frames that hold no code."""

    name = "test"

    def __init__(self, payloads: list[bytes], forever: bool = False) -> None:
        self.payloads = list(payloads)
        self.forever = forever
        self.n = 0

    def capture(self):
        if not (self.payloads or self.forever):
            return None
        self.n += 1
        return (0, 2, 2, bytes([self.n & 255] * 4), self.n * 5000)

    def decode(self, frame) -> list:
        return [(self.payloads.pop(0), "qr")] if self.payloads else []

    def set_light(self, on: bool) -> None:
        pass


def code_frames(tmp_path: Path, texts: list[str]) -> Path:
    """A frames directory for the virtual reader: one QR code image per text, in order."""
    import segno

    from host_bridge.testbench.virtual_reader import write_frames
    images = []
    for i, text in enumerate(texts):
        images.append(tmp_path / f"{i}.png")
        segno.make_qr(text).save(str(images[-1]), scale=4, border=4)
    frames = tmp_path / "frames"
    frames.mkdir(exist_ok=True)
    write_frames(images, frames)
    return frames
