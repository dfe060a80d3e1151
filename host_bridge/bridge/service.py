"""`electeur run` wiring: readers → lookups → journal (then ACK) → sinks, API and page.

Each reader port runs in its own thread (pyserial blocks); it is re-opened after an
unplug. The journal write happens inside the link's `on_read`, so the ACK the link sends
when the callback returns means the read is on disk; a journal that cannot be written (disk
full) refuses the read, the reader keeps it and resends, and the pharmacist is told.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import serial
from aiohttp import web

from host_bridge.bridge.api import LOOPBACK, Api, own_origins
from host_bridge.bridge.config import Config, config_dir
from host_bridge.bridge.devices import serial_readers
from host_bridge.bridge.dispatch import Dispatcher
from host_bridge.bridge.epu_recheck import epu_problem, recheck_pending
from host_bridge.bridge.refusal import refuse
from host_bridge.bridge.health import Health
from host_bridge.bridge.journal import Journal, JournalError
from host_bridge.bridge.pairing import PairingStore
from host_bridge.bridge.redact import Redactor
from host_bridge.bridge.sealing import Sealer
from host_bridge.bridge.sinks import Minimised, Sink
from host_bridge.bridge.sinks.mqtt import MqttSink
from host_bridge.bridge.sinks.stdout import StdoutSink
from host_bridge.bridge.sinks.webhook import WebhookSink
from host_bridge.counter.pipeline import LookupPipeline
from host_bridge.decode.engines import get_engine
from host_bridge.decode.printed_code import PrintedCodeEngine
from host_bridge.epu.client import EpuClient
from host_bridge.errors import UserError
from firmware import protocol as P
from host_bridge.link import sniff
from host_bridge.link.frames import FrameReads
from host_bridge.link.reader_link import NotNow, ReaderLink
from host_bridge.link.tcp_stream import TcpStream
from host_bridge.payloads.lookup import now_source
from host_bridge.payloads.manual import PRINTED_CODE_ENGINE

log = logging.getLogger("electeur.bridge")
REOPEN_S = 1.0
OCR_INTERVAL_S = 2.0    # a damaged code stays in view for seconds: one OCR attempt per 2 s is enough
SCAN_S = 2.0
SILENT_S = 6.0  # a framed reader's heartbeat comes every 5 s by default: silence this long is worth saying
STOP_S = 0.5  # a port thread notices its stop within its 0.2 s read timeout


def open_stream(device: str) -> serial.Serial | TcpStream:
    """A serial port through pyserial; `tcp://HOST:PORT` as a socket read in whole buffers (not pyserial's
    `socket://`, which a link reads one byte per poll)."""
    if device.startswith("tcp://"):
        return TcpStream(device)
    return serial.serial_for_url(device, baudrate=115200, timeout=0.2)


def cleartext_warning(name: str, host: str, minimal: bool, fix: str) -> None:
    """Warn at start about a sink that carries lookups in clear beyond this machine."""
    if host in LOOPBACK:
        return
    what = "minimised lookups (kind, status, prescription number)" if minimal else \
        "patients' identifiers (NIR, names, birth dates)"
    log.warning("sink %s sends %s IN CLEAR over the network to %s: %s%s", name, what, host, fix,
                "" if minimal else ", or minimal = true")


def api_exposure(cfg: Config) -> ssl.SSLContext | None:
    """The API's TLS context (None: plain HTTP, loopback only). Beyond loopback the bearer token and the lookups
    would cross the LAN: refused without TLS and an explicit list of the pages' origins, and warned about."""
    tls = None
    if cfg.api_cert and cfg.api_key:
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            tls.load_cert_chain(cfg.api_cert, cfg.api_key)
        except (OSError, ssl.SSLError) as exc:
            raise UserError(f"cannot load api_cert {cfg.api_cert} / api_key {cfg.api_key}: {exc}") from None
    if cfg.api_host in LOOPBACK:
        return tls
    if tls is None or not cfg.api_origins:
        raise UserError(f"refusing to serve the API on {cfg.api_host}:{cfg.api_port}: beyond this machine the "
                        "bearer token and patients' identifiers would cross the network"
                        + (" in clear; set api_cert and api_key (a certificate for this machine's name)" if tls is None
                           else "") + " and api_origins (the https:// addresses the counter pages are opened at), "
                        "or keep api on 127.0.0.1 (docs/security.md)")
    log.warning("API OPEN TO THE NETWORK on %s:%d over TLS: any computer of the LAN holding the token can read "
                "lookups; pages allowed from %s", cfg.api_host, cfg.api_port, ", ".join(cfg.api_origins))
    return tls


class ReaderPort:
    """One serial port or TCP reader: open, run the link, re-open after an unplug, until stopped."""

    def __init__(self, device: str, bridge: Bridge) -> None:
        self.device = device
        self.bridge = bridge
        self.state = "opening"
        self.error: str | None = None
        self.readers: dict[int, dict[str, Any]] = {}
        self.reads = 0
        self.link: ReaderLink | None = None
        # streamed frames: decoded here, each new code journaled before the frame's ACK, which tells the
        # reader what was read (its beep and light); kept across re-opens, so a replug does not re-read
        self._on_frame = FrameReads(bridge.engine, self._on_read)
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"port-{device}", daemon=True)

    def describe(self) -> dict[str, Any]:
        refused = self.link.auth_error if self.link else None     # a peer that failed the pairing check
        return {"device": self.device, "state": self.state, "error": self.error or refused, "reads": self.reads,
                "readers": [{"id": rid, "name": h.get("name"), "board": h.get("board"), "firmware": h.get("firmware")}
                            for rid, h in self.readers.items()]}

    def _set(self, state: str, error: str | None = None) -> None:
        if (state, error) != (self.state, self.error):
            self.state, self.error = state, error
            log.info("device %s: %s%s", self.device, state, f" ({error})" if error else "")
            self.bridge.device_changed(self)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                stream = open_stream(self.device)
            except (serial.SerialException, OSError, ValueError) as exc:
                self._set("disconnected", str(exc))
                self._stop.wait(REOPEN_S)
                continue
            # a Wi-Fi reader must prove it holds its pairing key before anything it sends is journaled
            keys = self.bridge.pairings.key if self.device.startswith("tcp://") else None
            link = self.link = ReaderLink(stream, self._on_read, self._on_frame, self._on_message, keys=keys)
            self.readers = link.readers
            self._set("connected")
            try:
                self._listen(link)
                if not self._stop.is_set():
                    self._set("disconnected", self._unpaired(link) or "end of stream")
            except (serial.SerialException, OSError) as exc:
                self._set("disconnected", self._unpaired(link) or str(exc))
            finally:
                stream.close()
                self.bridge.health.resolve(f"reader:{self.device}", f"{self.device} closed")
            self._stop.wait(REOPEN_S)

    def _listen(self, link: ReaderLink) -> None:
        """Run the link and watch for a port that does not speak the framed protocol (sniff). Nothing is written
        to a port before it sent a valid frame: every host message starts with the byte 0x03, Ctrl-C, which would
        stop a reader in line or hid mode (its REPL's interrupt is on). Once it proved framed (a READ, or its
        heartbeat, every 5 s by default), CONFIG_GET asks who it is: a reader that booted before the bridge
        answers with its HELLO (name, board) and the setup errors it reported at boot."""
        opened, asked = time.monotonic(), False
        while not self._stop.is_set() and link.poll():
            if link.decoder.frames:
                if not asked and link.auth is None:   # a paired reader says HELLO itself once the handshake is done
                    link.send(P.config_get())
                    asked = True
                if self.state != "connected":
                    self._set("connected")
                    self.bridge.health.resolve(f"reader:{self.device}", f"{self.device} speaks the framed protocol")
                continue
            problem = sniff.foreign(bytes(link.sample), self.device)
            if problem and self.state != "wrong_mode":
                self._set("wrong_mode", problem)
                self.bridge.health.report(f"reader:{self.device}", "reader_wrong_mode", problem)
            elif not problem and not link.sample and self.state == "connected" and \
                    time.monotonic() - opened > SILENT_S:
                self._set("silent", sniff.silent(self.device, SILENT_S))

    def _on_message(self, msg: P.Message) -> None:
        """A reader's HELLO (it booted) clears its config problem; its config/setup ERRORs become one, so a
        config.json it refused (bad JSON, bad key: it runs on defaults) is seen at the counter, not only in a log."""
        key = f"reader-config:{self.device}"
        if msg.type == P.HELLO:
            self.bridge.health.resolve(key, f"reader {msg.reader} on {self.device} restarted")
            self.bridge.device_changed(self)
        elif msg.type == P.ERROR:
            body = msg.json()
            if body.get("code") in ("config", "setup"):
                self.bridge.health.report(key, "reader_config", f"{self.device} (lecteur {msg.reader}) : "
                                          f"{str(body.get('message'))[:300]}")

    @staticmethod
    def _unpaired(link: ReaderLink) -> str | None:
        """Why a Wi-Fi reader hung up without a word: it is not paired (it says nothing to anyone then)."""
        if link.auth is None or link.challenged:
            return None
        return "the reader hung up without a handshake: it is not paired (electeur pair), or not a reader"

    def _on_read(self, reader_id: int, seq: int, payload: bytes, meta: dict[str, Any]) -> None:
        # The reader id is in every READ header, so it names the reader even when the bridge restarted
        # and never saw the HELLO (whose display name only shows in /api/devices): ids stay stable.
        # seq plus the reader's capture clock: a retransmission repeats both, a rebooted reader does not.
        # A code from a streamed frame (host decoding): the frame id, its capture time and the code's place.
        read_id = f"{seq}-{meta.get('captured_ms', 0)}"
        engine = meta.get("engine") or None
        if meta.get("source") == "frame":
            read_id = f"f{read_id}-{meta['index']}"
        elif engine == PRINTED_CODE_ENGINE:
            engine = None           # the host's own OCR, claimed by a reader: an untrusted name, not honoured
        self.bridge.on_read(f"reader-{reader_id}", read_id, payload, engine, resent=bool(meta.get("retransmitted")))
        self.reads += 1

    def start(self) -> None:
        self.thread.start()

    def stopping(self) -> None:
        self._stop.set()

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(STOP_S)


class Bridge:
    """The service: journal, sinks, API and reader ports; `serve()` runs until cancelled."""

    def __init__(self, cfg: Config, token: str, redactor: Redactor, token_where: str = "") -> None:
        self.cfg = cfg
        self.redactor = redactor
        # sealed at rest unless the config explicitly allows identifiers in clear (log_identifiers = true)
        sealer = Sealer.from_store(cfg.journal_key, cfg.journal, config_dir() / "journal.key")
        self.journal = Journal(cfg.journal, sealer=sealer, clear=cfg.log_identifiers)
        self.health = Health()
        self.ports: dict[str, ReaderPort] = {}
        self.pairings = PairingStore(cfg.pairings)
        self._auto: set[str] = set()  # ports opened by `auto`
        sinks = self.build_sinks()
        self.dispatcher = Dispatcher(self.journal, sinks, backoff_s=cfg.retry_first_s, max_backoff_s=cfg.retry_max_s,
                                     health=self.health)
        self.api_tls = api_exposure(cfg)
        origins = own_origins(cfg.api_host, cfg.api_port, tls=self.api_tls is not None) | set(cfg.api_origins)
        self.api = Api(self.journal, token=token, origins=origins,
                       devices=self.devices, manual_entry=self.manual_entry, sinks=tuple(s.name for s in sinks),
                       health=self.health, token_where=token_where, new_patient=lambda: self.pipeline.new_patient(),
                       refuse=lambda lookup_id, reason: refuse(self.journal, self.epu, lookup_id, reason))
        self.epu = EpuClient(cfg.epu.url, token=cfg.epu.token, timeout=cfg.epu.timeout_s) if cfg.epu else None
        if self.epu and urlsplit(self.epu.base_url).port == cfg.api_port and \
                urlsplit(self.epu.base_url).hostname in ("127.0.0.1", "localhost", cfg.api_host):
            log.warning("ePU URL %s is this bridge's own API address: ePU checks are off; run the sandbox on "
                        "another port and set [epu] url (or $ELECTEUR_EPU_URL)", self.epu.base_url)
            self.epu = None
        self.pipeline = LookupPipeline(epu=self.epu)  # one counter session per reader
        # host decoding of streamed frames; on a miss the number printed under a damaged QR, at most every 2 s
        self.engine = PrintedCodeEngine(get_engine(), min_interval_s=OCR_INTERVAL_S)

    def build_sinks(self) -> list[Sink]:
        """The configured sinks; each one that sends identifiers in clear across the network is warned about."""
        sinks: list[Sink] = [StdoutSink()] if self.cfg.stdout else []
        for w in self.cfg.webhooks:
            sink: Sink = WebhookSink(w.url, token=w.token, ca_file=w.ca_file)
            if w.url.startswith("http://"):
                cleartext_warning(sink.name, urlsplit(w.url).hostname or "", w.minimal, "use an https:// url")
            sinks.append(Minimised(sink) if w.minimal else sink)
        if self.cfg.mqtt:
            m = self.cfg.mqtt
            sink = MqttSink(m.host, m.port, prefix=m.prefix, username=m.username, password=m.password,
                            reconnect_max_s=self.cfg.retry_max_s, tls=m.tls, ca_file=m.ca_file,
                            cert_file=m.cert_file, key_file=m.key_file)
            if not m.tls:
                cleartext_warning(sink.name, m.host, m.minimal, "set tls = true (and ca_file) in [sinks.mqtt]")
            sinks.append(Minimised(sink) if m.minimal else sink)
        return sinks

    def record(self, lookup: dict[str, Any], resent: bool = False) -> tuple[int, bool]:
        """Journal `lookup`; JournalError (disk full...) is reported as a health problem and re-raised."""
        self.redactor.remember_lookup(lookup)
        if self.epu:
            epu_problem(self.health, self.epu, lookup)
        try:
            seq, new = self.journal.record(lookup)
        except JournalError as exc:
            self.health.report("journal", "journal_unwritable", f"{exc}. Reads are NOT acknowledged: each reader "
                               "keeps them and resends; free disk space, they are recorded as soon as it works.")
            raise
        self.health.resolve("journal", "the journal is writable again; the readers' waiting reads are recorded")
        # "resent": the reader sent it again, unacknowledged (a bridge killed or a port closed before the ACK)
        log.info("%s lookup %s from %s%s: %s %s%s", "new" if new else "repeated", lookup["id"][:12],
                 lookup["source"].get("reader"), " (resent)" if resent else "", lookup["kind"], lookup["status"],
                 "".join(f" [{w['code']}]" for w in lookup.get("warnings", [])))
        return seq, new

    def on_read(self, reader: str, read_id: str, payload: bytes, engine: str | None, resent: bool = False) -> None:
        """Called by a port thread; returns once the lookup is journaled (then the link ACKs)."""
        lookup = self.pipeline.lookup(payload, now_source(reader, engine=engine, read_id=read_id))
        try:
            self.record(lookup, resent)
        except JournalError as exc:
            raise NotNow(str(exc)) from None

    def manual_entry(self, code: str) -> dict[str, Any]:
        """A code typed on the counter page: same lookup as `electeur lookup --code`, ePU state, journaled."""
        lookup = self.pipeline.manual(code)
        self.record(lookup)
        return lookup

    def devices(self) -> list[dict[str, Any]]:
        return [p.describe() for p in list(self.ports.values())]

    def device_changed(self, port: ReaderPort) -> None:
        self.api.publish({"type": "device", "device": port.describe()})

    def add_port(self, device: str) -> None:
        if device not in self.ports:
            port = self.ports[device] = ReaderPort(device, self)
            port.start()

    def _scan(self) -> None:
        """`auto`: open every port whose VID/PID is one of our boards' as it appears; forget an auto-found
        port that is gone and disconnected (a replugged reader may come back under another name)."""
        present = {dev["port"] for dev in serial_readers()}
        for device in present - self._auto:
            self._auto.add(device)
            self.add_port(device)
        for device in self._auto - present:
            if self.ports[device].state == "disconnected":
                self._auto.discard(device)
                self.ports.pop(device).stop()
                self.api.publish({"type": "device", "device": {"device": device, "state": "gone"}})

    async def _housekeeping(self) -> None:
        while True:
            if "auto" in self.cfg.devices:
                await asyncio.to_thread(self._scan)
            try:
                purged = await asyncio.to_thread(self.journal.purge, self.cfg.retention_days * 86400)
                if purged:
                    log.info("retention: purged %d lookups older than %g days", purged, self.cfg.retention_days)
                if self.epu:
                    await asyncio.to_thread(recheck_pending, self.journal, self.epu, self.health)
            except JournalError as exc:     # disk full: already a health problem if reads fail; try again later
                log.warning("housekeeping postponed: %s", exc)
            await asyncio.sleep(SCAN_S)

    async def serve(self, ready: threading.Event | None = None) -> None:
        runner = self.api.runner()
        await runner.setup()
        try:
            await web.TCPSite(runner, self.cfg.api_host, self.cfg.api_port, ssl_context=self.api_tls).start()
        except OSError as exc:
            await runner.cleanup()
            raise UserError(f"cannot listen on {self.cfg.api_host}:{self.cfg.api_port}: {exc.strerror or exc}") from None
        self.dispatcher.start()
        for device in self.cfg.devices:
            if device != "auto":
                self.add_port(device)
        if ready:
            ready.set()
        try:
            await self._housekeeping()
        finally:
            for port in self.ports.values():  # all told at once, then joined: stopping N ports is not N times longer
                port.stopping()
            for port in self.ports.values():
                port.stop()
            self.dispatcher.stop()
            await runner.cleanup()
            self.journal.close()
