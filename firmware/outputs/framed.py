# `framed` output: the wire protocol over a byte port (USB-CDC, UART, stdout in the simulator).
# Reads go through the Outbox (resent until ACKed; kept on flash too once `restore()` named its file);
# the good-read feedback comes with the host's ACK, a "pending" pattern when it is late. Frames are
# streamed one at a time, the next one only after the host ACKed the previous (or `frame_ack_ms` passed):
# flow control on a slow link. A frame's ACK may say what the host read in it: a new read gives the good
# feedback, and `on_frame_read(read)` (the scan loop's light) hears whether a code was in it.

from firmware import config, outbox_file, protocol as P
from firmware.clock import pause, sleep_ms, ticks_diff, ticks_ms
from firmware.outputs import Refused

VERSION = "0.2.0"


class FramedOutput:
    can_stream = True
    pairs = True                        # the pairing key may be set on this link (USB: physical access)

    def __init__(self, port, cfg, board, seq0=None, feedback=None):
        self.port = port
        self.cfg = cfg
        self.board = board
        self.reader = cfg["reader_id"]
        self.outbox = P.Outbox(self.reader, cfg["outbox_max"])
        self.decoder = P.Decoder()
        self.seq = seq0 if seq0 is not None else _boot_seq()
        self.seq0 = self.seq            # HELLO always announces this boot's first sequence number
        self.status_wanted = False      # a host asked (CONFIG_GET): the scan loop sends a heartbeat now
        self.frame_pending = None
        self.caps = ["framed"]
        self.on_config = None           # called with the new config after a valid CONFIG_SET
        self.config_path = config.PATH
        self.feedback = feedback
        self.outbox_path = None         # set by restore(): the outbox is then kept on flash
        self.flash_writes = 0
        self._waiting = {}              # seq -> [emitted ms, pending shown]: good feedback waits for the ACK
        self.watchdog = None            # fed while a read waits for room in a full outbox
        self.on_frame_read = None       # called with True/False when a frame's ACK says what the host read
        self.setup_errors = []          # said again to a host that connects later (CONFIG_GET): a refused config
        self.on_release = None          # called after answering RELEASE: hand the serial line back (main.py)
        self._seq_given = seq0 is not None

    def restore(self, path=outbox_file.PATH):
        """Keep the outbox in the file `path` from now on and reload the reads a power cut left there (they
        are resent with their own seq). Returns the problems to report (damaged records skipped)."""
        self.outbox_path = path
        if not self._seq_given:         # with flash: a boot counter makes seqs differ even if urandom repeats
            self.seq = self.seq0 = _boot_seq(path.rsplit("/", 1)[0] + BOOTS)
        return outbox_file.load(self.outbox, path)

    def _save(self):
        if self.outbox_path is None:
            return
        try:
            outbox_file.save(self.outbox, self.outbox_path)
            self.flash_writes += 1
        except OSError as exc:
            self.error("outbox", "not saved to flash: %s" % exc)

    def next_seq(self):
        self.seq = (self.seq + 1) & 0xFFFFFFFF
        while self.seq in self.outbox:  # a read restored from flash keeps its seq: never reuse it
            self.seq = (self.seq + 1) & 0xFFFFFFFF
        return self.seq

    def start(self):
        self.port.write(P.hello(self.reader, self.board["name"], self.caps, self.seq0, VERSION, self.cfg["name"]))

    def connected(self):
        """A host connected (and authenticated, on a paired link): HELLO, and every waiting read due at once
        rather than after its backoff."""
        self.start()
        self.outbox.rewind()

    def log(self, text):
        self.port.write(P.log(self.reader, text))

    def error(self, code, message):
        if code == "setup" and len(self.setup_errors) < 8:
            self.setup_errors.append(message)
        self.port.write(P.error(self.reader, code, message))

    def status(self, obj):
        self.status_wanted = False
        self.port.write(P.heartbeat(self.reader, obj))

    def busy(self):
        return self.outbox.full()

    def poll(self):
        data = self.port.read()
        if data:
            acked = 0
            for msg in self.decoder.feed(data):
                acked += self._handle(msg)
            if acked:
                self._save()            # one flash write for every ACK of this batch
        if self._waiting:
            self._late()
        for wire in self.outbox.due(ticks_ms()):
            self.port.write(wire)

    def _late(self):
        """The "pending" feedback, once per read, for reads the host has not acknowledged in time."""
        now = ticks_ms()
        for w in self._waiting.values():
            if not w[1] and ticks_diff(now, w[0]) >= self.cfg["ack_feedback_ms"]:
                w[1] = True
                self.feedback.signal("pending")

    def _handle(self, msg):
        """Act on one message from the host; 1 when it acknowledged a waiting read, else 0."""
        if msg.type == P.ACK:
            if msg.seq == self.frame_pending:
                self.frame_pending = None
                self._frame_acked(P.parse_frame_ack(msg))
            elif self.outbox.ack(msg.seq):
                if self._waiting.pop(msg.seq, None) is not None:
                    self.feedback.signal("good")
                return 1
        elif msg.type == P.CONFIG_GET:      # a host that connected after boot learns who we are, too
            self.start()
            self.port.write(P.config(self.reader, config.public(self.cfg)))
            for message in self.setup_errors:
                self.port.write(P.error(self.reader, "setup", message))
            self.status_wanted = True
        elif msg.type == P.CONFIG_SET:
            self._config_set(msg)
        elif msg.type == P.RELEASE and self.on_release:
            self._save()
            self.port.write(P.release(self.reader))     # the host waits for this, then for the reset
            self.on_release()
        return 0

    def _frame_acked(self, got):
        if got is None:                 # a host that does not say: as before, no feedback, light unchanged
            return
        if got == P.FRAME_NEW and self.feedback:
            self.feedback.signal("good")
        if self.on_frame_read:
            self.on_frame_read(got != P.FRAME_NOTHING)

    def _config_set(self, msg):
        try:
            obj = msg.json()
        except P.ProtocolError as exc:
            self.error("config", str(exc))
            return
        cfg, errors = config.validate(obj, self.cfg)
        if config.SECRET in obj and not self.pairs:
            errors.append("pair_key is set over USB only (electeur pair)")
        if errors:
            self.error("config", "; ".join(errors))
            return
        self.cfg.update(cfg)
        try:
            config.save(self.cfg, self.config_path)
        except OSError as exc:
            self.error("config", "not saved: %s" % exc)
        self.port.write(P.config(self.reader, config.public(self.cfg)))
        if self.on_config:
            self.on_config(self.cfg)

    def _feed(self):
        if self.watchdog:
            self.watchdog.feed()

    async def emit(self, payload, fmt="qr", engine="", captured_ms=0):
        """Queue the read (and save the outbox) before sending it. False: the good feedback is not due yet,
        poll() gives it when the host's ACK arrives. A full outbox holds the read (and the scan) up to
        outbox_wait_ms for the host to ACK, then refuses it (error feedback): the older reads are kept."""
        t = ticks_ms()
        while self.outbox.full():
            self.poll()                 # an ACK may be waiting on the port
            if not self.outbox.full() or ticks_diff(ticks_ms(), t) >= self.cfg["outbox_wait_ms"]:
                break
            self._feed()                # waiting for the host is not a hang
            await sleep_ms(5)
        if self.outbox.full():
            self.error("outbox", "%d reads wait for the host's ACK: new read refused" % len(self.outbox))
            raise Refused("outbox full")
        seq = self.next_seq()
        self.outbox.add(seq, payload, fmt, engine, captured_ms)
        self._save()
        if self.feedback:
            self._waiting[seq] = [ticks_ms(), False]
        self.poll()
        return False

    async def send_frame(self, frame):
        """Stream one frame; wait for the host's ACK of the previous one first."""
        await self.wait_frame()
        kind, w, h, buf, captured = frame
        fid = self.next_seq()
        self.frame_pending = fid
        t = ticks_ms()
        try:
            for wire in P.frame_messages(self.reader, fid, kind, w, h, buf, captured):
                if not await self._room(len(wire), t):
                    self.frame_pending = None   # abandoned: the host drops the partial frame, the next replaces it
                    return False
                self.port.write(wire)
                await pause()           # let the port drain (and, on the wasm port, the GC run) per chunk
        except P.SourceError as exc:    # the camera's FIFO gave out mid-frame: said, and the next frame goes on
            self.frame_pending = None
            self.error("frame", str(exc))
            return False
        self.poll()
        return True

    async def _room(self, n, t0):
        """Wait (polling, yielding) until a port with a bounded send buffer (tcp) takes `n` more bytes;
        False after frame_ack_ms. Byte ports that block on write (UART, USB-CDC) always have room."""
        room = getattr(self.port, "room", None)
        while room and not room(n):
            if ticks_diff(ticks_ms(), t0) >= self.cfg["frame_ack_ms"]:
                return False
            self.poll()
            self._feed()
            await sleep_ms(5)
        return True

    async def wait_frame(self):
        """Until the host ACKed the last frame (polling), at most frame_ack_ms."""
        t = ticks_ms()
        while self.frame_pending is not None and ticks_diff(ticks_ms(), t) < self.cfg["frame_ack_ms"]:
            self.poll()
            self._feed()
            await sleep_ms(2)
        self.frame_pending = None

    async def drain(self, timeout_ms):
        """Wait until every read is acknowledged and the last frame too; False on timeout."""
        t = ticks_ms()
        while (len(self.outbox) or self.frame_pending is not None) and ticks_diff(ticks_ms(), t) < timeout_ms:
            if getattr(self.port, "closed", False):
                break
            self.poll()
            self._feed()
            await sleep_ms(5)
        return not len(self.outbox)


BOOTS = "/boots"                        # boot counter on flash, next to the outbox


def _boot_seq(counter=None):
    """A fresh starting sequence number per boot, so the host never mistakes a new read for a resend. With
    `counter` (a file on flash) the boot count fills the top 11 bits: seqs of 2,048 successive boots never
    meet even where os.urandom repeats (some ports seed it the same at every boot); urandom fills the rest."""
    try:
        import os
        seq = int.from_bytes(os.urandom(4), "little") & 0x7FFFFFFF
    except (ImportError, AttributeError, OSError, NotImplementedError):
        seq = (ticks_ms() * 7919) & 0x7FFFFFFF
    if counter is None:
        return seq
    try:
        with open(counter) as f:
            boots = int(f.read()) + 1
    except (OSError, ValueError):
        boots = 0
    try:
        with open(counter, "w") as f:
            f.write(str(boots))
    except OSError:
        return seq
    return (boots & 0x7FF) << 20 | seq & 0xFFFFF
