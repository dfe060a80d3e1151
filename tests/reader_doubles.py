"""The host's ends of a reader link in tests: a byte port the reader writes to, and a socket as a
ReaderLink stream."""

from __future__ import annotations

import socket

from firmware import protocol as P


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
