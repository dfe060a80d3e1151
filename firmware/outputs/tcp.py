# `tcp` output (Wi-Fi boards): the framed protocol over one TCP connection on `tcp_port`. Never blocks the
# scan loop: the listening socket is polled; while no host is connected, frames are dropped and READs wait
# in the outbox (resent once a host connects). The reader advertises _electeur._tcp by mDNS (firmware.mdns).
import socket

from firmware.outputs.framed import FramedOutput


class SocketPort:
    """The current connection, or none: write drops, read returns b"" until a host connects."""

    def __init__(self, port):
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("0.0.0.0", port))
        self.srv.listen(1)
        self.srv.setblocking(False)
        self.conn = None
        self.closed = False
        self.on_connect = None

    def _accept(self):
        try:
            conn, _ = self.srv.accept()
        except OSError:
            return
        conn.setblocking(False)
        self.conn = conn
        if self.on_connect:
            self.on_connect()

    def write(self, data):
        if self.conn is None:
            return
        mv = memoryview(data)
        while len(mv):
            try:
                n = self.conn.send(mv)
            except OSError as exc:
                if exc.args and exc.args[0] in (11, 35):        # EAGAIN: the host is slow, retry
                    continue
                self._drop()
                return
            mv = mv[n:]

    def read(self):
        if self.conn is None:
            self._accept()
            return b""
        try:
            data = self.conn.recv(4096)
        except OSError as exc:
            if exc.args and exc.args[0] in (11, 35):
                return b""
            self._drop()
            return b""
        if not data:
            self._drop()
        return data or b""

    def _drop(self):
        try:
            self.conn.close()
        except (OSError, AttributeError):
            pass
        self.conn = None


def local_ip():
    try:
        import network
        return network.WLAN(network.STA_IF).ifconfig()[0]
    except ImportError:
        return socket.gethostbyname(socket.gethostname())


class TcpOutput(FramedOutput):
    def __init__(self, cfg, board, ip=None):
        FramedOutput.__init__(self, SocketPort(cfg["tcp_port"]), cfg, board)
        self.caps = ["framed", "tcp"]
        self.port.on_connect = self.start
        self.mdns = None
        self.mdns_error = None
        rid = cfg["reader_id"]
        try:
            from firmware.mdns import Responder
            self.mdns = Responder(cfg["name"] or "reader-%d" % rid, "electeur-%d" % rid, ip or local_ip(),
                                  cfg["tcp_port"], {"board": board["name"], "protocol": "1", "reader": str(rid)})
            self.mdns.announce()
        except (ImportError, OSError) as exc:
            self.mdns_error = "mDNS unavailable: %s" % exc

    def poll(self):
        if self.mdns:
            self.mdns.poll()
        FramedOutput.poll(self)
