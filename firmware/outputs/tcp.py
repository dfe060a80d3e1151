# `tcp` output (Wi-Fi boards): the framed protocol over one TCP connection on `tcp_port`.
# Only imported on boards with `socket` and a network; mDNS advertisement is the host's to find.
import socket

from firmware.outputs.framed import FramedOutput


class SocketPort:
    def __init__(self, conn):
        self.conn = conn
        conn.setblocking(False)

    def write(self, data):
        self.conn.sendall(data) if hasattr(self.conn, "sendall") else self.conn.write(data)

    def read(self):
        try:
            return self.conn.recv(4096) or b""
        except OSError:
            return b""


class TcpOutput(FramedOutput):
    def __init__(self, cfg, board):
        srv = socket.socket()
        srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        srv.bind(("0.0.0.0", cfg["tcp_port"]))
        srv.listen(1)
        conn, _ = srv.accept()
        FramedOutput.__init__(self, SocketPort(conn), cfg, board)
        self.caps = ["framed", "tcp"]
