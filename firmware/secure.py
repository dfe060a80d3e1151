# The paired link (docs/protocol.md, "Secure link"): one source for the reader and the host.
#
# Reader and host share a 32-byte key, set once over USB (`electeur pair`). On each connection:
#   reader -> host  AUTH_CHALLENGE  u8 auth version (1) | Nr (16 random bytes)
#   host -> reader  AUTH_RESPONSE   Nh (16 random bytes) | HMAC(K, "host" | T)
#   reader -> host  AUTH_OK         HMAC(K, "reader" | T)          T = "e-lecteur auth 1" | reader u16 LE | Nr | Nh
# Each side checks the other's proof before anything else; then every message both ways is SEALED: its
# plain wire frame encrypted (SHA-256 in counter mode) and MACed (HMAC-SHA256, encrypt-then-MAC) with
# per-connection, per-direction keys, its counter strictly increasing (replay, reorder and reflection fail).
import struct
from hashlib import sha256

from firmware import protocol as P
from firmware.hmac256 import Hmac, equal

AUTH_VERSION = 1
KEY_LEN = 32
NONCE = 16
TAG = 16                                # MAC bytes kept (HMAC-SHA256 truncated to 128 bits)
OVERHEAD = P.HEADER_LEN + TAG + 4 + 2   # a sealed frame is this much longer than the plain one (+ COBS)
LABEL = b"e-lecteur auth 1"


class AuthError(P.ProtocolError):
    """A handshake or sealed message that does not authenticate: refused, never acted on."""


class NotPaired(AuthError):
    """A reader id this host holds no key for."""


def random_bytes(n):
    """n unpredictable bytes: os.urandom (a board's hardware RNG); the wasm simulator has no urandom, and
    uses its `random` module (documented as a simulator-only weakness)."""
    try:
        import os
        return os.urandom(n)
    except (ImportError, AttributeError):
        import random
        return bytes(random.getrandbits(8) for _ in range(n))


def parse_key(text):
    """The key from its 64-hex-digit spelling (config.json, the host's pairing store); ValueError if not one."""
    if not isinstance(text, str) or len(text) != 2 * KEY_LEN:
        raise ValueError("a pairing key is %d hex digits" % (2 * KEY_LEN))
    return bytes(int(text[i:i + 2], 16) for i in range(0, len(text), 2))


def _transcript(reader, nr, nh):
    return LABEL + struct.pack("<H", reader) + nr + nh


def _crypt(key, n, data):
    """XOR with the keystream SHA-256(key | n | block index): one compression per 32 bytes, into one buffer;
    the XOR is done on two big integers, in C on every runtime."""
    size = len(data)
    if not size:
        return b""
    k = len(key)
    block = bytearray(k + 8)
    block[:k] = key
    struct.pack_into("<I", block, k, n)
    ks = bytearray((size + 31) // 32 * 32)
    for j in range(len(ks) // 32):
        struct.pack_into("<I", block, k + 4, j)
        ks[32 * j:32 * j + 32] = sha256(block).digest()
    x = int.from_bytes(data, "big") ^ int.from_bytes(memoryview(ks)[:size], "big")
    return x.to_bytes(size, "big")


class Session:
    """An authenticated connection: seal() what goes out, open() what comes in (own keys per direction)."""

    def __init__(self, hk, transcript, reader, host):
        mine, theirs = (b"h2r", b"r2h") if host else (b"r2h", b"h2r")
        self.reader = reader
        self._enc = hk.mac(b"enc " + mine, transcript)
        self._mac = Hmac(hk.mac(b"mac " + mine, transcript))
        self._dec = hk.mac(b"enc " + theirs, transcript)
        self._check = Hmac(hk.mac(b"mac " + theirs, transcript))
        self.sent = 0                   # counter of the last message sealed
        self.last = 0                   # counter of the last message opened

    def seal(self, wire):
        """A plain wire frame (as P.encode made it) -> the SEALED wire frame holding it, delimiter aside."""
        self.sent += 1
        n = self.sent
        header = struct.pack(P.HEADER_FMT, P.VERSION, P.SEALED, 0, self.reader, n)
        ct = _crypt(self._enc, n, memoryview(wire)[:-1])
        return P.encode(P.SEALED, n, ct + self._mac.mac(header, ct)[:TAG], self.reader)

    def open(self, msg):
        """A received SEALED Message -> (the plain Message inside, its wire frame); AuthError if forged,
        tampered with or replayed."""
        if msg.type != P.SEALED:
            raise AuthError("%s not sealed on a paired link" % msg.name)
        if msg.reader != self.reader:
            raise AuthError("sealed message for reader %d on reader %d's link" % (msg.reader, self.reader))
        body = msg.payload
        if len(body) <= TAG:
            raise AuthError("sealed message too short")
        ct = body[:-TAG]
        header = struct.pack(P.HEADER_FMT, msg.version, P.SEALED, msg.flags, msg.reader, msg.seq)
        if not equal(self._check.mac(header, ct)[:TAG], body[-TAG:]):
            raise AuthError("sealed message fails its MAC (forged or altered)")
        if msg.seq <= self.last:
            raise AuthError("sealed message %d replayed (last was %d)" % (msg.seq, self.last))
        self.last = msg.seq
        inner = _crypt(self._dec, msg.seq, ct)
        plain = P.decode_frame(inner)
        if plain.reader != self.reader or plain.type in AUTH_TYPES:
            raise AuthError("sealed message holds a %s for reader %d" % (plain.name, plain.reader))
        return plain, inner + b"\x00"


AUTH_TYPES = (P.AUTH_CHALLENGE, P.AUTH_RESPONSE, P.AUTH_OK, P.SEALED)


class ReaderAuth:
    """The reader's end of the handshake: challenge(), then respond() to the host's AUTH_RESPONSE."""

    def __init__(self, key, reader):
        self._hk = Hmac(key)
        self.reader = reader
        self.session = None
        self._nr = None

    def challenge(self):
        """AUTH_CHALLENGE; the same nonce until a response to it came (a resend, not a new challenge)."""
        if self._nr is None:
            self._nr = random_bytes(NONCE)
        return P.encode(P.AUTH_CHALLENGE, 0, bytes((AUTH_VERSION,)) + self._nr, self.reader)

    def respond(self, msg):
        """AUTH_OK wire when the host proved it holds the key (the session starts), else None. One answer per
        nonce: any response uses the nonce up, so a recorded answer cannot be tried again."""
        nr, self._nr = self._nr, None
        self.session = None
        body = msg.payload
        if nr is None or msg.type != P.AUTH_RESPONSE or len(body) != NONCE + 32:
            return None
        t = _transcript(self.reader, nr, body[:NONCE])
        if not equal(self._hk.mac(b"host", t), body[NONCE:]):
            return None
        self.session = Session(self._hk, t, self.reader, False)
        return P.encode(P.AUTH_OK, 0, self._hk.mac(b"reader", t), self.reader)


class HostAuth:
    """The host's end: `keys(reader_id)` gives the paired key (or None). accept(msg) -> (reply wire or None,
    plain Message or None); AuthError for anything that does not authenticate."""

    def __init__(self, keys):
        self.keys = keys
        self.session = None
        self._pending = None

    @property
    def answered(self):
        """True while our proof waits for the reader's AUTH_OK."""
        return self._pending is not None

    def accept(self, msg):
        if msg.type == P.AUTH_CHALLENGE:
            self.session = None
            self._pending = None
            key = self.keys(msg.reader)
            if key is None:
                raise NotPaired("reader %d is not paired with this host (run `electeur pair`)" % msg.reader)
            if len(msg.payload) != 1 + NONCE or msg.payload[0] != AUTH_VERSION:
                raise AuthError("AUTH_CHALLENGE of an unknown version")
            hk = Hmac(key)
            nh = random_bytes(NONCE)
            t = _transcript(msg.reader, msg.payload[1:], nh)
            self._pending = (hk, t, msg.reader)
            return P.encode(P.AUTH_RESPONSE, 0, nh + hk.mac(b"host", t), msg.reader), None
        if msg.type == P.AUTH_OK:
            pending, self._pending = self._pending, None
            if pending is None or msg.reader != pending[2]:
                raise AuthError("AUTH_OK without a challenge")
            hk, t, reader = pending
            if not equal(hk.mac(b"reader", t), msg.payload):
                raise AuthError("reader %d's proof is wrong: not the paired reader" % reader)
            self.session = Session(hk, t, reader, True)
            return None, None
        if self.session is None:
            raise AuthError("%s before authentication: not a paired reader (firmware before pairing? update it and "
                            "pair it: electeur deploy --pair)" % msg.name)
        return None, self.session.open(msg)[0]
