"""A Wi-Fi reader's TCP connection as the byte stream `ReaderLink` polls.

pyserial's `socket://` says `in_waiting` is 1 whenever the socket is readable (it polls with select), so a
link read it one byte per poll: 46 KB/s, and 4 MB of junk from a rogue peer stalled the link for 153 s.
Here `read(size)` waits up to `timeout` for the socket to be readable, then takes all it has (up to `size`).
"""

from __future__ import annotations

import select
import socket
from urllib.parse import urlsplit

WRITE_TIMEOUT_S = 5.0       # a peer that stops reading our ACKs is dropped, not waited for forever


class TcpStream:
    """`tcp://HOST:PORT` (checked by the config) opened; `read` returns b"" on a quiet line (like a serial port
    with a timeout)."""

    def __init__(self, url: str, timeout: float = 0.2, connect_timeout: float = 5.0) -> None:
        where = urlsplit(url)
        self.timeout = timeout
        self.sock = socket.create_connection((where.hostname, where.port), timeout=connect_timeout)
        self.sock.settimeout(WRITE_TIMEOUT_S)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)     # an ACK goes out at once

    def read(self, size: int) -> bytes:
        """What the socket has, up to `size` bytes; b"" after `timeout` of silence; ConnectionError at its end."""
        if not select.select([self.sock], [], [], self.timeout)[0]:
            return b""
        data = self.sock.recv(size)
        if not data:
            raise ConnectionError("end of stream: the reader closed the connection")
        return data

    def write(self, data: bytes) -> int:
        self.sock.sendall(data)
        return len(data)

    def close(self) -> None:
        self.sock.close()
