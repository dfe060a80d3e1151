# A minimal mDNS responder for the tcp output: answers queries for _electeur._tcp.local with PTR, SRV, TXT
# and A records (MicroPython's own mDNS answers for the hostname only), and announces itself at start.
import socket
import struct

GROUP = "224.0.0.251"
PORT = 5353
SERVICE = "_electeur._tcp.local"
PTR, A, TXT, SRV, ANY = 12, 1, 16, 33, 255


def _name(text):
    out = b""
    for label in text.split("."):
        b = label.encode()
        out += bytes((len(b),)) + b
    return out + b"\x00"


def _read_name(pkt, i):
    """(name, index after it) with compression pointers followed; ValueError on a malformed packet."""
    labels = []
    end = None
    for _ in range(64):
        n = pkt[i]
        if n & 0xC0 == 0xC0:
            if end is None:
                end = i + 2
            i = ((n & 0x3F) << 8) | pkt[i + 1]
            continue
        if n == 0:
            return ".".join(labels), (end if end is not None else i + 1)
        labels.append(bytes(pkt[i + 1:i + 1 + n]).decode())
        i += 1 + n
    raise ValueError("name too long")


def questions(pkt):
    """[(name lowercased, qtype)] of a query packet; [] for responses or malformed packets."""
    try:
        flags, qd = struct.unpack("!HH", pkt[2:6])
        if flags & 0x8000:
            return []
        out = []
        i = 12
        for _ in range(qd):
            name, i = _read_name(pkt, i)
            qtype = struct.unpack("!H", pkt[i:i + 2])[0]
            i += 4
            out.append((name.lower(), qtype))
        return out
    except (ValueError, IndexError, struct.error, UnicodeError):
        return []


def _rr(name, rtype, ttl, data, flush=True):
    return name + struct.pack("!HHIH", rtype, 0x8001 if flush else 1, ttl, len(data)) + data


class Responder:
    def __init__(self, instance, host, ip, port, txt=None):
        self.instance = instance + "." + SERVICE
        self.host = host + ".local"
        self.ip = ip
        self.port = port
        self.txt = txt or {}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if hasattr(socket, "SO_REUSEPORT"):
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        self.sock.bind(socket.getaddrinfo("0.0.0.0", PORT)[0][-1])   # (host, port) tuples: not on the unix port
        mreq = bytes(int(x) for x in GROUP.split(".")) + bytes(int(x) for x in ip.split("."))
        self.sock.setsockopt(getattr(socket, "IPPROTO_IP", 0), socket.IP_ADD_MEMBERSHIP, mreq)   # 0 everywhere
        self.group = socket.getaddrinfo(GROUP, PORT)[0][-1]
        self.sock.setblocking(False)

    def response(self):
        txt = b"".join(bytes((len(e),)) + e for e in (("%s=%s" % kv).encode() for kv in self.txt.items())) or b"\x00"
        inst, host = _name(self.instance), _name(self.host)
        rrs = [_rr(_name(SERVICE), PTR, 4500, inst, False),
               _rr(inst, SRV, 120, struct.pack("!HHH", 0, 0, self.port) + host),
               _rr(inst, TXT, 4500, txt),
               _rr(host, A, 120, bytes(int(x) for x in self.ip.split(".")))]
        return struct.pack("!HHHHHH", 0, 0x8400, 0, len(rrs), 0, 0) + b"".join(rrs)

    def announce(self):
        self.sock.sendto(self.response(), self.group)

    def poll(self):
        """Answer pending queries that ask for us; never blocks."""
        names = (SERVICE.lower(), self.instance.lower(), self.host.lower())
        while True:
            try:
                pkt, _ = self.sock.recvfrom(1500)
            except OSError:
                return
            if any(n in names and t in (PTR, SRV, TXT, A, ANY) for n, t in questions(pkt)):
                self.sock.sendto(self.response(), self.group)

    def close(self):
        self.sock.close()
