"""Host end of the wire protocol: decode a reader's byte stream, deliver each read exactly once, ACK after.

The ACK for a READ is sent only after `on_read` returns, so a bridge that journals inside `on_read` never
acknowledges a read it could lose; if `on_read` raises, the error is logged, no ACK goes out and the reader
resends. Duplicates
(a resend after a lost ACK) are recognised by (reader id, seq), re-acknowledged, and not delivered again.
Streamed frames are reassembled and passed to `on_frame`; the frame's ACK (flow control) follows it, with
what `on_frame` returned (P.FRAME_NOTHING/NEW/SEEN) as its body so the reader beeps and steps its light.
With `keys` (a paired link: TCP), nothing is delivered or acknowledged until the reader proved it holds its
pairing key (`firmware/secure.py`), and every message after that is sealed both ways.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from typing import Any, Callable, Protocol, cast

from firmware import protocol as P
from firmware import secure
from host_bridge.link.assembly import Frames
from host_bridge.link.sniff import SAMPLE
from host_bridge.throttle import Throttle

log = logging.getLogger("electeur.link")

OnRead = Callable[[int, int, bytes, dict[str, Any]], None]
OnFrame = Callable[[int, "Frame"], "int | None"]     # returns P.FRAME_NOTHING/NEW/SEEN, or None: not said
OnMessage = Callable[[P.Message], None]
Keys = Callable[[int], "bytes | None"]              # reader id -> its pairing key, None when not paired

SEEN_PER_READER = 4096                  # sequence numbers remembered per reader for duplicate detection
MAX_READERS = 16                        # reader ids learned from READ headers on one link (a hostile stream: bounded)


class NotNow(Exception):
    """Raised by `on_read` that cannot take the read now (e.g. the journal is full): no ACK, the reader
    resends; logged at debug level only, the raiser tells the user (not once per resend)."""


class Stream(Protocol):
    def read(self, size: int) -> bytes: ...
    def write(self, data: bytes) -> Any: ...


class Frame:
    """A reassembled camera frame: `kind` is "gray8" or "jpeg"; gray8 data is width*height bytes, row major."""

    def __init__(self, frame_id: int, kind: str, width: int, height: int, data: bytes, captured_ms: int) -> None:
        self.frame_id, self.kind, self.width, self.height = frame_id, kind, width, height
        self.data, self.captured_ms = data, captured_ms


class ReaderLink:
    """One connection to one or more readers (ids from the frame header) over a byte stream."""

    def __init__(self, stream: Stream, on_read: OnRead, on_frame: OnFrame | None = None,
                 on_message: OnMessage | None = None, keys: Keys | None = None) -> None:
        self.stream = stream
        self.on_read = on_read
        self.on_frame = on_frame
        self.on_message = on_message
        self.decoder = P.Decoder()
        self.readers: dict[int, dict[str, Any]] = {}        # reader id -> its HELLO ({} until it says it)
        self.sample = bytearray()                           # bytes before the first valid frame (sniff.foreign)
        self._seen: dict[int, OrderedDict[int, None]] = {}
        self._frames = Frames(lambda reader: self.readers.get(reader, {}).get("board"))   # bounded: untrusted sizes
        self._write_lock = threading.Lock()
        self._bad_log = Throttle(10.0)          # a rogue peer's flood of bad messages is one line per 10 s
        self._ids_log = Throttle(10.0)          # and of invented reader ids
        self.auth = secure.HostAuth(keys) if keys else None
        self.auth_error: str | None = None  # why the last peer was refused (a health message for the bridge)
        self.challenged = False             # a paired link's peer sent AUTH_CHALLENGE (an unpaired reader hangs up)
        self.stats = {"reads": 0, "duplicates": 0, "frames": 0, "frames_dropped": 0, "bad_messages": 0,
                      "callback_errors": 0, "refused": 0}

    @property
    def authenticated(self) -> bool:
        """True on a plain link, or once the reader proved it holds its pairing key."""
        return self.auth is None or self.auth.session is not None

    def send(self, wire: bytes) -> None:
        """Write one encoded message (thread-safe: the bridge may send CONFIG_SET while `run` reads); on a
        paired link it is sealed, and dropped while no reader is authenticated."""
        with self._write_lock:
            if self.auth is not None:
                if self.auth.session is None:
                    log.warning("message not sent: no authenticated reader on this link")
                    return
                wire = self.auth.session.seal(wire)
            self._write(wire)

    def _write(self, wire: bytes) -> None:
        self.stream.write(wire)
        flush = getattr(self.stream, "flush", None)
        if flush:
            flush()

    @property
    def errors(self) -> dict[str, int]:
        """Bad frames seen on the line, by protocol error class."""
        return dict(self.decoder.errors)

    def feed(self, data: bytes) -> None:
        """Process bytes received from the stream."""
        if not self.decoder.frames and len(self.sample) < SAMPLE:
            self.sample += data[:SAMPLE - len(self.sample)]
        for msg in self.decoder.feed(data):
            if self.auth is not None:
                opened = self._authenticate(msg)
                if opened is None:
                    continue
                msg = opened
            try:
                self._handle(msg)
            except P.ProtocolError as exc:
                self.stats["bad_messages"] += 1
                if count := self._bad_log.ready():
                    log.warning("reader %d: bad %s: %s%s", msg.reader, msg.name, exc,
                                f" ({count - 1} more bad messages since the last report)" if count > 1 else "")
            except NotNow as exc:
                self.stats["callback_errors"] += 1
                log.debug("reader %d: %s seq %d not acknowledged: %s", msg.reader, msg.name, msg.seq, exc)
            except Exception:                   # a failing callback: not acknowledged, the reader resends
                self.stats["callback_errors"] += 1
                log.exception("reader %d: %s seq %d not acknowledged", msg.reader, msg.name, msg.seq)

    def poll(self, size: int = 4096) -> bool:
        """Read what is available (blocking for at least one byte) and process it; False at end of stream.

        A pyserial port is read up to `in_waiting` bytes; a pipe with `read1`; an empty read from a port
        with a timeout is a quiet line, from anything else the end of the stream."""
        if hasattr(self.stream, "in_waiting"):
            data = self.stream.read(max(1, min(size, self.stream.in_waiting)))
        else:
            read1 = getattr(self.stream, "read1", None)
            data = read1(size) if read1 else self.stream.read(size)
        if data:
            self.feed(data)
            return True
        return getattr(self.stream, "timeout", None) is not None

    def run(self, stop: threading.Event | None = None) -> None:
        """Process the stream until `stop` is set or the stream ends (a pyserial port with a timeout just polls)."""
        while not (stop and stop.is_set()):
            if not self.poll():
                return

    def _authenticate(self, msg: P.Message) -> P.Message | None:
        """The plain message inside a sealed one; None for a handshake step or anything refused (counted; the
        reason logged once, a failed handshake's first: a forger sending thousands writes one line)."""
        assert self.auth is not None
        self.challenged = self.challenged or msg.type == P.AUTH_CHALLENGE
        try:
            if msg.type == P.AUTH_CHALLENGE and self.auth.answered:
                self._refused(msg, f"reader {msg.reader} did not accept this host's proof: its key differs, "
                                   "pair it again (electeur pair)")       # a new challenge, not AUTH_OK
            reply, plain = self.auth.accept(msg)
        except secure.AuthError as exc:
            self._refused(msg, str(exc))
            return None
        if reply is not None:
            with self._write_lock:
                self._write(reply)
        elif plain is None:
            self.auth_error = None
            log.info("reader %d authenticated (paired key)", msg.reader)
        return cast("P.Message | None", plain)

    def _refused(self, msg: P.Message, why: str) -> None:
        self.stats["refused"] += 1
        if self.auth_error is None or msg.type in (P.AUTH_CHALLENGE, P.AUTH_OK):   # the handshake says most
            if why != self.auth_error:
                log.warning("refused: %s", why)
            self.auth_error = why

    def _duplicate(self, reader: int, seq: int) -> bool:
        seen = self._seen.setdefault(reader, OrderedDict())
        return seq in seen

    def _remember(self, reader: int, seq: int) -> None:
        seen = self._seen[reader]
        seen[seq] = None
        if len(seen) > SEEN_PER_READER:
            seen.popitem(last=False)

    def _handle(self, msg: P.Message) -> None:
        if msg.type == P.READ:
            self._read(msg)
        elif msg.type == P.FRAME_START:
            self._frames.start(msg)
        elif msg.type == P.FRAME_CHUNK:
            self._frames.chunk(msg)
        elif msg.type == P.FRAME_END:
            self._frame_end(msg)
        else:
            if not self._admit(msg):
                return
            if msg.type == P.HELLO:
                self.readers[msg.reader] = msg.json()
            if self.on_message:
                self.on_message(msg)

    def _admit(self, msg: P.Message) -> bool:
        """Whether this reader id may speak on this link: a known one, or a new one while the link has fewer than
        MAX_READERS. Each id costs memory (its HELLO, SEEN_PER_READER sequence numbers): a peer inventing ids is
        refused past the bound, its messages not ACKed nor passed on (one log line per 10 s)."""
        if msg.reader in self.readers:
            return True
        if len(self.readers) < MAX_READERS:
            self.readers[msg.reader] = {}   # known from its messages even before (or without) its HELLO
            return True
        self.stats["refused"] += 1
        if count := self._ids_log.ready():
            log.warning("%d message(s) from new reader ids ignored: more than %d reader ids on one link",
                        count, MAX_READERS)
        return False

    def _read(self, msg: P.Message) -> None:
        payload, meta = P.parse_read(msg)
        if not self._admit(msg):
            return
        if self._duplicate(msg.reader, msg.seq):
            self.stats["duplicates"] += 1
        else:
            meta["retransmitted"] = bool(msg.flags & P.FLAG_RETRANSMIT)
            self.on_read(msg.reader, msg.seq, payload, meta)     # journal first: may raise, then no ACK
            self._remember(msg.reader, msg.seq)
            self.stats["reads"] += 1
        self.send(P.ack(msg.reader, msg.seq))

    def _frame_end(self, msg: P.Message) -> None:
        ended = self._frames.end(msg)
        if ended is None:
            return
        asm, whole = ended
        if not whole:
            self.stats["frames_dropped"] += 1
            self.send(P.ack(msg.reader, msg.seq))       # the reader moves on to a fresh frame
            return
        self.stats["frames"] += 1
        got = None
        if self.on_frame:
            got = self.on_frame(msg.reader, Frame(msg.seq, P.KINDS[asm.kind], asm.width, asm.height, bytes(asm.buf),
                                                  asm.captured_ms))
        self.send(P.ack(msg.reader, msg.seq, got))
