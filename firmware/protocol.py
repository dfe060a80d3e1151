# e-lecteur wire protocol, version 1: one source for the reader (MicroPython) and the host (CPython).
#
# Frame on the wire:  COBS(header + payload + crc32_le(header + payload)) + b"\x00"
# header (9 bytes):   version u8, type u8, flags u8, reader u16 LE, seq u32 LE
# See docs/protocol.md for every message body and byte-level examples.
import json
import struct

try:
    from binascii import crc32 as _crc32
    _crc32(b"")
except (ImportError, AttributeError):
    _crc32 = None

VERSION = 1
HEADER_FMT = "<BBBHI"
HEADER_LEN = 9
MAX_PAYLOAD = 4096                      # largest message body; a QR code holds at most 2953 bytes
CHUNK = 1024                            # frame chunk size: small enough for a 192 KB heap
MAX_PLAIN = HEADER_LEN + MAX_PAYLOAD + 4 + (HEADER_LEN + MAX_PAYLOAD + 4) // 254 + 2   # a frame, delimiter included
MAX_SEALED = MAX_PLAIN - 1 + 16         # a SEALED body: a frame (no delimiter) encrypted, and a 16-byte MAC
MAX_ENCODED = HEADER_LEN + MAX_SEALED + 4 + (HEADER_LEN + MAX_SEALED + 4) // 254 + 2

# message types
HELLO = 0x01
READ = 0x02
ACK = 0x03
FRAME_START = 0x04
FRAME_CHUNK = 0x05
FRAME_END = 0x06
STATUS = 0x07
HEARTBEAT = 0x08
CONFIG_GET = 0x09
CONFIG_SET = 0x0A
CONFIG = 0x0B
LOG = 0x0C
ERROR = 0x0D
# the paired link (firmware/secure.py; TCP): a handshake, then every message sealed
AUTH_CHALLENGE = 0x0E
AUTH_RESPONSE = 0x0F
AUTH_OK = 0x10
SEALED = 0x11

# the optional 1-byte body of the ACK for a streamed frame: what the host read in it (empty: unknown)
FRAME_NOTHING = 0x00                    # no code in the frame
FRAME_NEW = 0x01                        # a new read, delivered
FRAME_SEEN = 0x02                       # only codes already delivered for this presentation (still in view)
NAMES = {HELLO: "HELLO", READ: "READ", ACK: "ACK", FRAME_START: "FRAME_START", FRAME_CHUNK: "FRAME_CHUNK",
         FRAME_END: "FRAME_END", STATUS: "STATUS", HEARTBEAT: "HEARTBEAT", CONFIG_GET: "CONFIG_GET",
         CONFIG_SET: "CONFIG_SET", CONFIG: "CONFIG", LOG: "LOG", ERROR: "ERROR", AUTH_CHALLENGE: "AUTH_CHALLENGE",
         AUTH_RESPONSE: "AUTH_RESPONSE", AUTH_OK: "AUTH_OK", SEALED: "SEALED"}

# flags
FLAG_RETRANSMIT = 0x01                  # this READ was sent before and not yet acknowledged

# frame kinds
GRAY8 = 0
JPEG = 1
KINDS = {GRAY8: "gray8", JPEG: "jpeg"}

# host -> reader: hand the serial line back to the REPL (empty body); the reader answers RELEASE, then resets
# into a boot that stays at the REPL (docs/firmware.md). 0x0E-0x11 are the paired link's.
RELEASE = 0x12
NAMES[RELEASE] = "RELEASE"


class ProtocolError(Exception):
    """Anything wrong with bytes received: the only exception the decoding side raises."""


class FramingError(ProtocolError):
    """Not a valid COBS frame, or too short to hold a header and CRC."""


class CrcError(ProtocolError):
    """The frame's CRC-32 does not match its content (corrupted on the line)."""


class TooLongError(ProtocolError):
    """A frame or payload larger than the protocol allows."""


class VersionError(ProtocolError):
    """A protocol version this code does not speak."""


class BodyError(ProtocolError):
    """A message whose body does not have the shape its type requires."""


def _make_table():
    t = []
    for i in range(16):
        c = i
        for _ in range(4):
            c = (c >> 1) ^ 0xEDB88320 if c & 1 else c >> 1
        t.append(c)
    return t


_T16 = _make_table()


def crc32_soft(data, crc=0):
    """CRC-32 (IEEE, as zlib) with a 16-entry table, for ports without binascii.crc32."""
    crc ^= 0xFFFFFFFF
    t = _T16
    for b in data:
        crc = t[(crc ^ b) & 15] ^ (crc >> 4)
        crc = t[(crc ^ (b >> 4)) & 15] ^ (crc >> 4)
    return crc ^ 0xFFFFFFFF


def crc32(data, crc=0):
    if _crc32 is None:
        return crc32_soft(data, crc)
    return _crc32(data, crc) & 0xFFFFFFFF


def cobs_encode(data, delimit=False):
    """COBS: the result holds no 0x00 byte, so 0x00 can delimit frames (appended when `delimit`).
    One output buffer, filled by slice assignment: little garbage on a small heap."""
    n = len(data)
    out = bytearray(n + n // 254 + 3)
    mv = memoryview(data)
    i = 0
    k = 0
    while True:
        j = data.find(b"\x00", i)
        end = n if j < 0 else j
        while end - i >= 254:
            out[k] = 255
            out[k + 1:k + 255] = mv[i:i + 254]
            k += 255
            i += 254
        out[k] = end - i + 1
        out[k + 1:k + 1 + end - i] = mv[i:end]
        k += 1 + end - i
        if j < 0:
            break
        i = j + 1
    if delimit:
        out[k] = 0
        k += 1
    return bytes(out[:k]) if k < len(out) else bytes(out)


def cobs_decode(enc):
    out = bytearray()
    i = 0
    n = len(enc)
    while i < n:
        code = enc[i]
        if code == 0:
            raise FramingError("zero byte inside a frame")
        j = i + code
        if j > n:
            raise FramingError("truncated COBS block")
        out += enc[i + 1:j]
        if code < 255 and j < n:
            out.append(0)
        i = j
    return bytes(out)


class Message:
    """One decoded message: type, flags, reader id, sequence number and raw body bytes."""

    def __init__(self, mtype, seq=0, payload=b"", reader=0, flags=0, version=VERSION):
        self.type = mtype
        self.seq = seq
        self.payload = payload
        self.reader = reader
        self.flags = flags
        self.version = version

    @property
    def name(self):
        return NAMES.get(self.type, "0x%02x" % self.type)

    def json(self):
        """The body as a JSON object (HELLO, STATUS, HEARTBEAT, CONFIG*, ERROR)."""
        try:
            obj = json.loads(self.payload)
        except (ValueError, UnicodeError):
            raise BodyError("%s body is not JSON" % self.name)
        if not isinstance(obj, dict):
            raise BodyError("%s body is not a JSON object" % self.name)
        return obj

    def __repr__(self):
        return "<%s seq=%d reader=%d flags=%d %d bytes>" % (self.name, self.seq, self.reader, self.flags,
                                                            len(self.payload))


def encode(mtype, seq=0, payload=b"", reader=0, flags=0):
    """The wire bytes of one message, delimiter included."""
    n = len(payload)
    limit = MAX_SEALED if mtype == SEALED else MAX_PAYLOAD
    if n > limit:
        raise TooLongError("payload of %d bytes > %d" % (n, limit))
    body = bytearray(HEADER_LEN + n + 4)
    struct.pack_into(HEADER_FMT, body, 0, VERSION, mtype, flags, reader & 0xFFFF, seq & 0xFFFFFFFF)
    body[HEADER_LEN:HEADER_LEN + n] = payload
    struct.pack_into("<I", body, HEADER_LEN + n, crc32(memoryview(body)[:HEADER_LEN + n]))
    return cobs_encode(body, True)


def decode_frame(frame):
    """One frame's bytes (without delimiter) -> Message; raises ProtocolError subclasses only."""
    if len(frame) > MAX_ENCODED:
        raise TooLongError("frame of %d bytes > %d" % (len(frame), MAX_ENCODED))
    body = cobs_decode(frame)
    if len(body) < HEADER_LEN + 4:
        raise FramingError("frame of %d bytes is too short" % len(body))
    data = body[:-4]
    if struct.unpack("<I", body[-4:])[0] != crc32(data):
        raise CrcError("CRC mismatch")
    version, mtype, flags, reader, seq = struct.unpack(HEADER_FMT, data[:HEADER_LEN])
    if version != VERSION:
        raise VersionError("protocol version %d, expected %d" % (version, VERSION))
    return Message(mtype, seq, data[HEADER_LEN:], reader, flags, version)


class Decoder:
    """Streaming decoder: feed() any bytes, get complete messages; bad frames are counted and skipped.

    After garbage it resynchronises at the next 0x00. `errors` counts bad frames by class name and
    `last_error` keeps the last one, so a link can report them.
    """

    def __init__(self):
        self._buf = bytearray()
        self._overflow = False
        self.errors = {}
        self.last_error = None
        self.frames = 0

    def _bad(self, exc):
        name = exc.__class__.__name__
        self.errors[name] = self.errors.get(name, 0) + 1
        self.last_error = exc

    def _append(self, chunk):
        if self._overflow or not chunk:
            return
        if len(self._buf) + len(chunk) > MAX_ENCODED:
            self._overflow = True
            self._buf = bytearray()
            self._bad(TooLongError("frame longer than %d bytes" % MAX_ENCODED))
        else:
            self._buf += chunk

    def partial(self):
        """True while bytes of an unfinished frame wait for their delimiter (at end of input: a torn frame)."""
        return bool(self._buf) or self._overflow

    def feed(self, data):
        """Bytes in, list of Message out."""
        data = bytes(data)
        out = []
        start = 0
        while True:
            j = data.find(b"\x00", start)
            if j < 0:
                self._append(data[start:])
                return out
            self._append(data[start:j])
            frame = self._buf
            overflow = self._overflow
            self._buf = bytearray()
            self._overflow = False
            start = j + 1
            if overflow or not frame:
                continue
            try:
                out.append(decode_frame(frame))
                self.frames += 1
            except ProtocolError as exc:
                self._bad(exc)


# ---- message bodies -------------------------------------------------------------------------------

def _json_body(obj):
    return json.dumps(obj).encode()


def hello(reader, board, caps, seq=0, firmware="0.1.0", name=""):
    body = {"protocol": VERSION, "reader": reader, "name": name, "board": board, "caps": list(caps),
            "firmware": firmware, "max_payload": MAX_PAYLOAD}
    return encode(HELLO, seq, _json_body(body), reader)


def _short(text):
    b = text.encode()
    if len(b) > 255:
        raise BodyError("field longer than 255 bytes")
    return bytes((len(b),)) + b


def read(reader, seq, data, fmt="qr", engine="", captured_ms=0, flags=0):
    """READ body: u8 len + format, u8 len + engine, u32 LE capture time (reader ms), then the payload bytes."""
    body = _short(fmt) + _short(engine) + struct.pack("<I", captured_ms & 0xFFFFFFFF) + bytes(data)
    return encode(READ, seq, body, reader, flags)


def parse_read(msg):
    """READ Message -> (payload bytes, {"format", "engine", "captured_ms"})."""
    p = msg.payload
    try:
        n = p[0]
        fmt = p[1:1 + n].decode()
        i = 1 + n
        m = p[i]
        engine = p[i + 1:i + 1 + m].decode()
        i += 1 + m
        if len(p) < i + 4:
            raise IndexError
        captured = struct.unpack("<I", p[i:i + 4])[0]
    except (IndexError, UnicodeError, ValueError):
        raise BodyError("malformed READ body")
    return p[i + 4:], {"format": fmt, "engine": engine, "captured_ms": captured}


def ack(reader, seq, frame=None):
    """ACK of a READ (empty body) or of a frame (`frame`: FRAME_NOTHING/NEW/SEEN, None for an empty body)."""
    return encode(ACK, seq, b"" if frame is None else bytes((frame,)), reader)


def parse_frame_ack(msg):
    """What the host read in the acknowledged frame (FRAME_NOTHING/NEW/SEEN); None when it did not say (an
    empty body: a host before this field) or said something this reader does not know."""
    p = msg.payload
    return p[0] if len(p) == 1 and p[0] <= FRAME_SEEN else None


class SourceError(Exception):
    """A frame's source gave out while the frame was streamed (frame_messages): the frame is abandoned."""


class BytesSource:
    """An image in memory as a frame source: what `frame_messages` reads a camera's FIFO through."""

    def __init__(self, data):
        self.mv = memoryview(data)
        self.pos = 0

    def __len__(self):
        return len(self.mv)

    def readinto(self, buf):
        m = min(len(buf), len(self.mv) - self.pos)
        buf[:m] = self.mv[self.pos:self.pos + m]
        self.pos += m
        return m


def frame_messages(reader, frame_id, kind, width, height, data, captured_ms=0):
    """A frame as FRAME_START (u8 kind, u16 width, u16 height, u32 length, u32 capture ms),
    FRAME_CHUNK (u32 offset + data) ... and FRAME_END (u32 CRC-32 of the whole image). A generator:
    the chunks are read, encoded and checksummed one at a time to keep the heap small. `data` is the image's
    bytes, or a source read piece by piece (`len()` bytes, `readinto(buf)` -> count), so that an image larger
    than the heap (a UXGA JPEG in the ArduCAM's FIFO) streams through one chunk buffer; a source that gives
    fewer bytes than it announced raises SourceError."""
    src = data if hasattr(data, "readinto") else BytesSource(data)
    n = len(src)
    yield encode(FRAME_START, frame_id, struct.pack("<BHHII", kind, width, height, n, captured_ms & 0xFFFFFFFF),
                 reader)
    chunk = bytearray(4 + CHUNK)            # one buffer for every chunk
    mv = memoryview(chunk)
    crc = 0
    for off in range(0, n, CHUNK):
        m = min(CHUNK, n - off)
        struct.pack_into("<I", chunk, 0, off)
        if src.readinto(mv[4:4 + m]) != m:
            raise SourceError("the frame's source ended at byte %d of %d" % (off, n))
        crc = crc32(mv[4:4 + m], crc)
        yield encode(FRAME_CHUNK, frame_id, mv[:4 + m], reader)
    yield encode(FRAME_END, frame_id, struct.pack("<I", crc), reader)


def parse_frame_start(msg):
    if len(msg.payload) != 13:
        raise BodyError("malformed FRAME_START body")
    kind, width, height, n, captured = struct.unpack("<BHHII", msg.payload)
    if kind not in KINDS:
        raise BodyError("unknown frame kind %d" % kind)
    if kind == GRAY8 and n != width * height:
        raise BodyError("gray8 frame %dx%d with %d bytes" % (width, height, n))
    return kind, width, height, n, captured


def parse_frame_chunk(msg):
    if len(msg.payload) < 4:
        raise BodyError("malformed FRAME_CHUNK body")
    return struct.unpack("<I", msg.payload[:4])[0], msg.payload[4:]


def parse_frame_end(msg):
    if len(msg.payload) != 4:
        raise BodyError("malformed FRAME_END body")
    return struct.unpack("<I", msg.payload)[0]


def status(reader, obj, seq=0):
    return encode(STATUS, seq, _json_body(obj), reader)


def heartbeat(reader, obj, seq=0):
    return encode(HEARTBEAT, seq, _json_body(obj), reader)


def config_get(reader=0, seq=0):
    return encode(CONFIG_GET, seq, b"", reader)


def config_set(reader, obj, seq=0):
    return encode(CONFIG_SET, seq, _json_body(obj), reader)


def config(reader, obj, seq=0):
    return encode(CONFIG, seq, _json_body(obj), reader)


def log(reader, text, seq=0):
    return encode(LOG, seq, text.encode()[:MAX_PAYLOAD], reader)


def release(reader=0, seq=0):
    return encode(RELEASE, seq, b"", reader)


def error(reader, code, message, seq=0):
    return encode(ERROR, seq, _json_body({"code": code, "message": message}), reader)


class Outbox:
    """Reader side: READs kept and resent until ACKed (nothing is lost while the reader runs).

    One read on the wire at a time, the oldest: the next goes out only once the host acknowledged it,
    i.e. journaled it. So a host receives a reader's reads in reading order whatever the link loses,
    repeats, delays or reorders, and across host restarts (a serial port opened late empties its buffer).
    `due(now_ms)` returns the frame to send now: a new oldest read at once, then again every `retry_ms`,
    doubling up to `max_retry_ms`; a new read makes a waiting oldest due at once if it went out more than
    `retry_ms` ago (a host that came back gets it without waiting out the back-off). When `capacity` reads wait, `add` refuses: the output
    refuses the read (error feedback) and keeps the older ones. `records()` and `add(..., resent=True)`
    let the reader keep the outbox on flash across a reboot (firmware/outbox_file.py): a restored read
    keeps its seq, reader id, capture time and its place in the order, so the host recognises a resend.
    """

    def __init__(self, reader, capacity=16, retry_ms=500, max_retry_ms=4000):
        self.reader = reader
        self.capacity = capacity
        self.retry_ms = retry_ms
        self.max_retry_ms = max_retry_ms
        self._items = {}                # seq -> [(data, fmt, engine, captured_ms, reader), next_ms, interval, sent]
        self._order = []                # waiting seqs in reading order (seqs start at random per boot)
        self._nudge = False             # a new read came: the oldest is due now (unless just sent)
        self.resent = 0

    def __len__(self):
        return len(self._items)

    def __contains__(self, seq):
        return seq in self._items

    def full(self):
        return len(self._items) >= self.capacity

    def add(self, seq, data, fmt="qr", engine="", captured_ms=0, reader=None, resent=False):
        """Keep a read until ACKed; False when full. `resent`: it went out before (a restored read, never refused)."""
        if self.full() and not resent:
            return False
        self._items[seq] = [(data, fmt, engine, captured_ms, self.reader if reader is None else reader), 0, 0,
                            resent]
        self._order.append(seq)
        self._nudge = True
        return True

    def ack(self, seq):
        if self._items.pop(seq, None) is None:
            return False
        self._order.remove(seq)
        return True

    def records(self):
        """(seq, reader, data, fmt, engine, captured_ms) of every waiting read, in reading order."""
        for seq in self._order:
            data, fmt, engine, captured, reader = self._items[seq][0]
            yield seq, reader, data, fmt, engine, captured

    def rewind(self):
        """Every waiting read new again (a host just connected: no need to wait out the back-off)."""
        for item in self._items.values():
            item[1] = 0
            item[2] = 0

    def due(self, now_ms):
        """The frames to send now: the oldest waiting read if it is due, else none."""
        if not self._order:
            return []
        seq = self._order[0]
        item = self._items[seq]
        args, next_ms, interval, sent = item
        # a nudge does not resend what went out less than retry_ms ago (its ACK may be on the way)
        nudged = self._nudge and now_ms - (next_ms - interval) >= self.retry_ms
        if interval and now_ms - next_ms < 0 and not nudged:
            return []
        self._nudge = False
        if sent:
            self.resent += 1
        interval = min(interval * 2, self.max_retry_ms) if interval else self.retry_ms
        item[1] = now_ms + interval
        item[2] = interval
        item[3] = True
        return [read(args[4], seq, args[0], args[1], args[2], args[3], FLAG_RETRANSMIT if sent else 0)]
