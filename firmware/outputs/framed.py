# `framed` output: the wire protocol over a byte port (USB-CDC, UART, stdout in the simulator).
# Reads go through the Outbox (resent until ACKed); frames are streamed one at a time, the next one
# only after the host ACKed the previous (or `frame_ack_ms` passed): flow control on a slow link.

from firmware import config, protocol as P
from firmware.clock import pause, sleep_ms, ticks_diff, ticks_ms

VERSION = "0.1.0"


class FramedOutput:
    can_stream = True

    def __init__(self, port, cfg, board, seq0=None):
        self.port = port
        self.cfg = cfg
        self.board = board
        self.reader = cfg["reader_id"]
        self.outbox = P.Outbox(self.reader)
        self.decoder = P.Decoder()
        self.seq = seq0 if seq0 is not None else _boot_seq()
        self.seq0 = self.seq            # HELLO always announces this boot's first sequence number
        self.status_wanted = False      # a host asked (CONFIG_GET): the scan loop sends a heartbeat now
        self.frame_pending = None
        self.caps = ["framed"]
        self.on_config = None           # called with the new config after a valid CONFIG_SET
        self.config_path = config.PATH

    def next_seq(self):
        self.seq = (self.seq + 1) & 0xFFFFFFFF
        return self.seq

    def start(self):
        self.port.write(P.hello(self.reader, self.board["name"], self.caps, self.seq0, VERSION, self.cfg["name"]))

    def log(self, text):
        self.port.write(P.log(self.reader, text))

    def error(self, code, message):
        self.port.write(P.error(self.reader, code, message))

    def status(self, obj):
        self.status_wanted = False
        self.port.write(P.heartbeat(self.reader, obj))

    def busy(self):
        return self.outbox.full()

    def poll(self):
        data = self.port.read()
        if data:
            for msg in self.decoder.feed(data):
                self._handle(msg)
        for wire in self.outbox.due(ticks_ms()):
            self.port.write(wire)

    def _handle(self, msg):
        if msg.type == P.ACK:
            if msg.seq == self.frame_pending:
                self.frame_pending = None
            else:
                self.outbox.ack(msg.seq)
        elif msg.type == P.CONFIG_GET:      # a host that connected after boot learns who we are, too
            self.start()
            self.port.write(P.config(self.reader, self.cfg))
            self.status_wanted = True
        elif msg.type == P.CONFIG_SET:
            self._config_set(msg)

    def _config_set(self, msg):
        try:
            obj = msg.json()
        except P.ProtocolError as exc:
            self.error("config", str(exc))
            return
        cfg, errors = config.validate(obj, self.cfg)
        if errors:
            self.error("config", "; ".join(errors))
            return
        self.cfg.update(cfg)
        try:
            config.save(self.cfg, self.config_path)
        except OSError as exc:
            self.error("config", "not saved: %s" % exc)
        self.port.write(P.config(self.reader, self.cfg))
        if self.on_config:
            self.on_config(self.cfg)

    async def emit(self, payload, fmt="qr", engine="", captured_ms=0):
        while self.outbox.full():
            self.poll()
            await sleep_ms(5)
        self.outbox.add(self.next_seq(), payload, fmt, engine, captured_ms)
        self.poll()
        return True

    async def send_frame(self, frame):
        """Stream one frame; wait for the host's ACK of the previous one first."""
        await self._wait_frame(self.cfg["frame_ack_ms"])
        kind, w, h, buf, captured = frame
        fid = self.next_seq()
        self.frame_pending = fid
        for wire in P.frame_messages(self.reader, fid, kind, w, h, buf, captured):
            self.port.write(wire)
            await pause()               # let the port drain (and, on the wasm port, the GC run) per chunk
        self.poll()
        return True

    async def _wait_frame(self, timeout_ms):
        t = ticks_ms()
        while self.frame_pending is not None and ticks_diff(ticks_ms(), t) < timeout_ms:
            self.poll()
            await sleep_ms(2)
        self.frame_pending = None

    async def drain(self, timeout_ms):
        """Wait until every read is acknowledged and the last frame too; False on timeout."""
        t = ticks_ms()
        while (len(self.outbox) or self.frame_pending is not None) and ticks_diff(ticks_ms(), t) < timeout_ms:
            if getattr(self.port, "closed", False):
                break
            self.poll()
            await sleep_ms(5)
        return not len(self.outbox)


def _boot_seq():
    """A fresh starting sequence number per boot, so the host never mistakes a new read for a resend."""
    try:
        import os
        return int.from_bytes(os.urandom(4), "little") & 0x7FFFFFFF
    except (ImportError, AttributeError, OSError, NotImplementedError):
        return (ticks_ms() * 7919) & 0x7FFFFFFF
