# The reader's end of the paired link as a byte port (write(wire) -> bool, read() -> wire bytes) around another
# one: the TCP socket (outputs/tcp.py) or stdio in the simulator (on_host.py --secure). Until the host has proved
# it holds the pairing key, nothing but AUTH_CHALLENGE goes out and nothing that comes in is acted on: READs
# wait in the outbox, a stranger's ACK or CONFIG_SET is ignored. Then everything is sealed both ways.
# Unpaired (no key), a network peer is hung up on at once: it gets nothing at all.
from firmware import protocol as P
from firmware import secure as S
from firmware.clock import ticks_diff, ticks_ms

RESEND_MS = 1000                        # the challenge again while no answer came (a host that joined late)
AUTH_TIMEOUT_MS = 5000                  # a TCP peer that does not authenticate by then is hung up on


class SecurePort:
    def __init__(self, port, key, reader, timeout_ms=AUTH_TIMEOUT_MS):
        self.port = port
        self.auth = S.ReaderAuth(key, reader) if key else None
        self.timeout_ms = timeout_ms
        self.on_connect = None          # called once a host authenticated (the output sends HELLO, resends)
        self.decoder = P.Decoder()
        self.refused = 0                # peers refused: a wrong proof, or none in time
        self.rejected = 0               # messages not acted on: unauthenticated, forged, altered, replayed
        self.dropped = 0                # messages not sent: no authenticated host
        self._since = None              # ticks_ms when the current peer connected (None: no peer)
        self._sent = None               # ticks_ms when the challenge last went out
        if hasattr(port, "on_connect"):
            port.on_connect = self._link_up     # a socket: a handshake per connection
            port.on_hangup = self._link_down
        else:
            self._link_up()                     # a byte stream: the peer is there from the start

    @property
    def closed(self):
        return getattr(self.port, "closed", False)

    def ready(self):
        """True while an authenticated host is connected."""
        return self.auth is not None and self.auth.session is not None and self._since is not None

    def _link_up(self):
        self._since = ticks_ms()
        self._sent = None
        self.decoder = P.Decoder()
        if self.auth is None:
            self.refused += 1
            self._hangup()              # not paired: nothing for a network peer
        else:
            self.auth.session = None

    def _link_down(self):
        self._since = None              # no peer: nothing is sealed for nobody

    def _hangup(self):
        hangup = getattr(self.port, "hangup", None)
        if hangup:
            hangup()
        if hangup or self.auth is None:
            self._since = None
        else:
            self._link_up()             # a stream cannot hang up: start over with a new challenge

    def read(self):
        """Plain wire frames of what an authenticated host sent (b"" otherwise)."""
        data = self.port.read()
        if self._since is None or self.auth is None:
            return b""
        out = b""
        for msg in self.decoder.feed(data) if data else ():
            out += self._take(msg)
        if self._since is not None and not self.ready():
            now = ticks_ms()
            if hasattr(self.port, "hangup") and ticks_diff(now, self._since) >= self.timeout_ms:
                self.refused += 1
                self._hangup()
            elif self._sent is None or ticks_diff(now, self._sent) >= RESEND_MS:
                self._sent = now
                self.port.write(self.auth.challenge())
        return out

    def _take(self, msg):
        if self.ready():
            try:
                return self.auth.session.open(msg)[1]
            except P.ProtocolError:
                self.rejected += 1
                return b""
        if msg.type != P.AUTH_RESPONSE:
            self.rejected += 1
            return b""
        ok = self.auth.respond(msg)
        if ok is None:
            self.refused += 1
            self._hangup()
            return b""
        self.port.write(ok)
        if self.on_connect:
            self.on_connect()
        return b""

    def write(self, data):
        """Seal and send one wire frame; False (dropped whole) while no authenticated host is connected."""
        if not self.ready():
            self.dropped += 1
            return False
        return self.port.write(self.auth.session.seal(data)) is not False

    def room(self, n):
        room = getattr(self.port, "room", None)
        return room is None or room(n + S.OVERHEAD + n // 254 + 1)
