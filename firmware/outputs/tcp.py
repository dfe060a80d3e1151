# `tcp` output (Wi-Fi boards): the framed protocol over one TCP connection on `tcp_port`. Never blocks the
# scan loop: the listening socket is polled; writes go to a bounded buffer sent as far as the socket
# takes it (select.poll POLLOUT: no send attempt while the peer's window is shut), the rest on the next
# poll(). While no host is connected, or the buffer is full, whole messages are dropped: READs wait in the
# outbox and are resent (at once when a host connects), heartbeats and logs are best effort, and a
# streamed frame waits for room (up to frame_ack_ms). The reader advertises _electeur._tcp by mDNS.
# The link is paired (firmware/secure_port.py): only a host holding the reader's key gets or acts on anything;
# an unpaired reader hangs up on every peer.
import socket

from firmware import protocol as P
from firmware.outputs.framed import FramedOutput
from firmware.secure import parse_key
from firmware.secure_port import SecurePort

AGAIN = (11, 35)                        # EAGAIN / EWOULDBLOCK (Linux, lwIP; BSD)
BUFFER = 2 * P.MAX_ENCODED              # unsent bytes kept: two of the largest messages


class SocketPort:
    """The current connection, or none: write queues whole messages, read returns b"" until a host connects."""

    def __init__(self, port, limit=BUFFER, host="0.0.0.0"):
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(socket.getaddrinfo(host, port)[0][-1])     # the unix port takes no (host, port) tuple
        self.srv.listen(1)
        self.srv.setblocking(False)
        self.conn = None
        self.closed = False
        self.on_connect = None
        self.on_hangup = None           # called when the connection is gone (the paired link forgets its session)
        self.limit = limit
        self.buf = bytearray()
        self.off = 0                    # bytes of buf already sent
        self.sends = 0                  # send() calls made (each one a system call: what a spin would burn)
        self.dropped = 0                # whole messages not queued (no host, or the buffer full)
        self._poller = None

    def _accept(self):
        try:
            conn, _ = self.srv.accept()
        except OSError:
            return
        conn.setblocking(False)
        self.conn = conn
        self.buf = bytearray()
        self.off = 0
        try:
            import select
            self._poller = select.poll()
            self._poller.register(conn, select.POLLOUT)
        except (ImportError, AttributeError, OSError):
            self._poller = None         # no poll: send() and its EAGAIN tell the same, once per flush
        if self.on_connect:
            self.on_connect()

    def backlog(self):
        """Bytes queued and not yet taken by the socket."""
        return len(self.buf) - self.off

    def room(self, n):
        """Can a message of `n` bytes be queued now? (Without a host it would be dropped at once: yes.)"""
        return self.conn is None or self.backlog() + n <= self.limit

    def write(self, data):
        """Queue one whole message and send what the socket takes now; False when it was dropped whole."""
        if self.conn is None or self.backlog() + len(data) > self.limit:
            self.dropped += 1
            return False
        if self.off:
            self.buf = self.buf[self.off:]
            self.off = 0
        self.buf += data
        self.flush()
        return True

    def _writable(self):
        if self._poller is None:
            return True
        for _, ev in self._poller.poll(0):
            if ev & 0x18:               # POLLERR | POLLHUP: let send() raise and close
                return True
            return bool(ev & 4)         # POLLOUT
        return False

    def flush(self):
        """Send queued bytes until the socket's buffer is full; never waits."""
        while self.conn is not None and self.backlog() and self._writable():
            self.sends += 1
            try:
                n = self.conn.send(memoryview(self.buf)[self.off:])
            except OSError as exc:
                if exc.args and exc.args[0] in AGAIN:
                    return
                self.hangup()
                return
            if not n:
                return
            self.off += n
        if self.off and not self.backlog():
            self.buf = bytearray()
            self.off = 0

    def read(self):
        if self.conn is None:
            self._accept()
            return b""
        self.flush()
        if self.conn is None:
            return b""
        try:
            data = self.conn.recv(4096)
        except OSError as exc:
            if exc.args and exc.args[0] in AGAIN:
                return b""
            self.hangup()
            return b""
        if not data:
            self.hangup()
        return data or b""

    def hangup(self):
        """The host is gone: close, forget the unsent bytes (a new connection starts on a frame boundary)."""
        try:
            self.conn.close()
        except (OSError, AttributeError):
            pass
        self.conn = None
        self._poller = None
        self.buf = bytearray()
        self.off = 0
        if self.on_hangup:
            self.on_hangup()


def local_ip():
    """The address announced by mDNS: the Wi-Fi interface's on a board; loopback on a host (CPython, the unix
    port: no `network` module), where the reader is the virtual one and serves this machine only."""
    try:
        import network
        return network.WLAN(network.STA_IF).ifconfig()[0]
    except ImportError:
        return "127.0.0.1"


class TcpOutput(FramedOutput):
    pairs = False                       # the pairing key is set over USB only, never over the network

    def __init__(self, cfg, board, ip=None, feedback=None):
        try:
            ip = ip or local_ip()
        except OSError:
            ip = None                   # nothing to announce: mDNS says so below
        # a reader announced on loopback (the virtual reader) listens on loopback only
        host = "127.0.0.1" if ip and ip.startswith("127.") else "0.0.0.0"
        self.socket = SocketPort(cfg["tcp_port"], host=host)
        key = parse_key(cfg["pair_key"]) if cfg["pair_key"] else None
        FramedOutput.__init__(self, SecurePort(self.socket, key, cfg["reader_id"]), cfg, board, feedback=feedback)
        self.caps = ["framed", "tcp"]
        self.port.on_connect = self.connected
        self.mdns = None
        self.mdns_error = None
        rid = cfg["reader_id"]
        try:
            if ip is None:
                raise OSError("no IP address")
            from firmware.mdns import Responder
            self.mdns = Responder(cfg["name"] or "reader-%d" % rid, "electeur-%d" % rid, ip,
                                  cfg["tcp_port"], {"board": board["name"], "protocol": "1", "reader": str(rid),
                                                    "paired": "yes" if key else "no"})
            self.mdns.announce()
        except (ImportError, OSError) as exc:
            self.mdns_error = "mDNS unavailable: %s" % exc

    def poll(self):
        if self.mdns:
            self.mdns.poll()
        FramedOutput.poll(self)
