"""Bridge faults with real processes (host_bridge/testbench/bridge_faults.py): the bridge SIGKILLed, the
journal's disk full, the webhook and the MQTT broker down, the ePU sandbox slow, failing and stopped.
Each: no read lost, none delivered twice to any sink, and the pharmacist is told what is going on.
Plus one test per bug these scenarios found (see docs/reliability.md, "Bridge faults")."""

from __future__ import annotations

import contextlib
import json
import resource
import time

import jsonschema
import pytest

import payload_examples as ex
from conftest import REPO
from host_bridge.bridge.dispatch import Dispatcher
from host_bridge.bridge.epu_recheck import recheck_pending
from host_bridge.bridge.health import Health
from host_bridge.bridge.journal import Journal, JournalError
from host_bridge.payloads.lookup import build_lookup, now_source
from host_bridge.bridge.sinks.mqtt import MqttError, MqttSink
from host_bridge.testbench import bridge_faults as bf
from host_bridge.testbench.fault_rig import Broker, Subscriber, wait_until
from host_bridge.epu.client import EpuClient
from host_bridge.testbench.epu_sandbox import SandboxServer


def assert_nothing_lost_or_doubled(fig: dict, sinks: tuple[str, ...]) -> None:
    """Also in reading order: the reader resends older waiting reads before a newer one."""
    assert fig["lost"] == 0 and fig["duplicates in journal"] == 0 and fig["journaled"] == fig["reads sent"], fig
    for sink in sinks:
        assert fig[f"{sink}: lost"] == 0 and fig[f"{sink}: out of reader order"] == 0, fig
        assert fig[f"{sink}: delivered"] == fig["journaled"] or sink == "webhook" and "completed when ePU returned" in fig


@pytest.mark.slow
def test_bridge_sigkilled_at_random_moments_loses_and_doubles_nothing(tmp_path):
    fig = bf.bridge_killed(tmp_path, seed=3, reads=24, kills=2)
    assert_nothing_lost_or_doubled(fig, ("webhook", "mqtt"))
    assert fig["saw during"] == "page 'hors ligne', API not answering"
    assert fig["saw after"].startswith("status ok, 24 reads listed")


@pytest.mark.slow
def test_journal_disk_full_refuses_reads_until_space_returns_then_records_them_all(tmp_path):
    fig = bf.journal_full(tmp_path, reads=18, hold_s=2.0)
    assert_nothing_lost_or_doubled(fig, ("webhook",))
    assert fig["reads journaled while full"] == 0                  # nothing ACKed that is not on disk
    assert fig["webhook: re-sent copies (dropped by key)"] == 0
    assert "status degraded" in fig["saw during"] and "journal_unwritable" in fig["saw during"]
    assert "Reads are NOT acknowledged" in fig["saw during"]
    assert len(fig["log"]) == 2 and "PROBLEM journal" in fig["log"][0] and "RESOLVED journal" in fig["log"][1]
    assert fig["saw after"].startswith("status ok, 18 reads listed")


@pytest.mark.slow
def test_webhook_and_broker_down_for_the_outage_then_every_lookup_once_in_order(tmp_path):
    fig = bf.sinks_down(tmp_path, reads=24, outage_s=3.0, retry=(0.05, 0.4))
    assert_nothing_lost_or_doubled(fig, ("webhook", "mqtt"))
    assert fig["webhook: re-sent copies (dropped by key)"] == 0, fig
    assert fig["mqtt: re-sent copies (dropped by key)"] <= 1, fig   # one in flight when the broker stopped
    assert all(n > 0 for n in fig["pending at the end of the outage"].values())
    assert fig["longest back-off (s)"] == 0.4 and fig["webhook 500 answers"] > 0   # back-off capped
    assert fig["reads listed for the page during the outage"] == 24                 # the counter still shows reads
    assert fig["saw during"].count("sink_failing") == 2
    assert fig["saw after"] == "status ok, 24 reads listed"


@pytest.mark.slow
def test_epu_slow_failing_and_stopped_reads_shown_unreachable_then_completed(tmp_path):
    fig = bf.epu_faults(tmp_path, per_phase=2, show_ms=500)
    assert_nothing_lost_or_doubled(fig, ("webhook",))
    causes = fig["ePU unreachable when read"]
    assert causes["timed out"] >= 2 and causes["HTTP 500"] >= 2 and causes["refused"] >= 2
    assert fig["completed when ePU returned"] == sum(causes.values()) and fig["final ePU states"] == ["available"]
    assert fig["webhook: delivered"] == fig["journaled"]            # the completed version of each, once
    assert fig["webhook: re-sent copies (dropped by key)"] == 0
    assert "ePU injoignable : réessayez" in fig["card while down"]
    assert all("epu_unreachable" in seen for seen in fig["saw during"].values())
    assert fig["saw after"].startswith("status ok")


# -- the bugs the scenarios found, one test each ---------------------------------------------------------

def test_mqtt_retries_while_the_broker_is_down_publish_one_copy(tmp_path):
    """Before: each retry queued another copy in paho, all sent on reconnection (subscriber got N copies)."""
    broker = Broker(tmp_path).start()
    subscriber = Subscriber(broker.port)
    broker.stop()
    sink = MqttSink("127.0.0.1", broker.port, timeout_s=2, reconnect_max_s=1)
    lookup = build_lookup(b"MQTT-ONCE", source=now_source("reader-1", read_id="1-1"))
    try:
        for _ in range(4):
            with pytest.raises(MqttError, match="not connected"):
                sink.deliver(lookup)
        broker.start()
        wait_until(lambda: sink.client.is_connected(), 15, "reconnection")
        sink.deliver(lookup)
        wait_until(lambda: subscriber.messages, 15, "the message")
        time.sleep(0.5)                                     # a second copy would arrive now
        assert [m["id"] for m in subscriber.messages] == [lookup["id"]]
    finally:
        sink.close()
        subscriber.close()
        broker.stop()


def test_a_delivery_the_journal_cannot_record_is_not_handed_to_the_sink_again(tmp_path, monkeypatch):
    """Before: a journal error in the sink thread killed it (nothing delivered until restart)."""
    journal = Journal(tmp_path / "j.sqlite")
    got: list[str] = []

    class Sink:
        name = "list"

        def deliver(self, lookup: dict) -> None:
            got.append(lookup["id"])

        def close(self) -> None:
            pass

    failures = {"left": 2}
    real = journal.mark_delivered

    def flaky(sink: str, seqs: list[int]) -> None:
        if failures["left"]:
            failures["left"] -= 1
            raise JournalError("journal cannot be written: disk I/O error")
        real(sink, seqs)

    monkeypatch.setattr(journal, "mark_delivered", flaky)
    health = Health()
    dispatcher = Dispatcher(journal, [Sink()], backoff_s=0.01, max_backoff_s=0.02, health=health)
    dispatcher.start()
    try:
        for n in range(3):
            journal.record(build_lookup(b"D%d" % n, source=now_source("reader-1", read_id=f"{n}-1")))
        wait_until(lambda: journal.pending("list") == 0, 10, "deliveries recorded")
    finally:
        dispatcher.stop()
    assert len(got) == 3 == len(set(got)) and health.problems() == []


def test_journal_write_beyond_the_file_size_limit_is_a_journal_error_and_recovers(tmp_path):
    journal = Journal(tmp_path / "j.sqlite")
    journal.record(build_lookup(b"BEFORE", source=now_source("reader-1", read_id="1-1")))
    wal = tmp_path / "j.sqlite-wal"
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (wal.stat().st_size, hard))
    try:
        with pytest.raises(JournalError, match="cannot be written"):
            journal.record(build_lookup(b"DURING", source=now_source("reader-1", read_id="2-1")))
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    journal.record(build_lookup(b"AFTER", source=now_source("reader-1", read_id="3-1")))
    assert [lk["text"] for lk in journal.after(None)[0]] == ["BEFORE", "AFTER"]


def test_an_unreachable_epu_state_is_completed_by_a_revision_every_sink_gets_once(tmp_path):
    """Before: a lookup read while ePU was down kept 'unreachable' forever."""
    journal = Journal(tmp_path / "j.sqlite")
    with SandboxServer() as sandbox:
        client = EpuClient(sandbox.url, timeout=1)
        client.register(ex.NUMBER, {"lines": []})
        down = EpuClient("http://127.0.0.1:9", timeout=0.5)
        lookup = down.attach(build_lookup(ex.ordonnance(), source=now_source("reader-1", read_id="1-1")))
        journal.record(lookup)
        journal.mark_delivered("webhook", [1])
        assert lookup["epu"]["state"] == "unreachable" and lookup["status"] == "warning"
        health = Health()
        assert recheck_pending(journal, down, health) == 0 and health.problems()[0]["code"] == "epu_unreachable"
        assert recheck_pending(journal, client, health) == 1 and health.problems() == []
    revised = journal.get(lookup["id"])
    jsonschema.validate(revised, json.loads((REPO / "docs/schemas/epu-lookup.v1.json").read_text()))
    assert revised["epu"]["state"] == "available" and revised["revision"] == 2 and revised["status"] == "ok"
    assert not any(w["code"] == "epu_unreachable" for w in revised["warnings"])
    assert journal.count() == 1 and [lk["id"] for _, lk in journal.undelivered("webhook")] == [lookup["id"]]
    assert journal.epu_unreachable() == []


@pytest.mark.slow
def test_counter_page_shows_each_problem_as_a_banner_and_replaces_a_card_completed_by_epu(tmp_path):
    """What the pharmacist sees, in the real page: a banner per problem while it lasts, and the card of an
    e-prescription read while ePU was down updated in place once ePU answered."""
    from api_server import ApiServer
    from tests.bridge.test_counter_page import CHROMIUM_ARGS, TOKEN, expect, playwright

    journal = Journal(tmp_path / "j.sqlite")
    down = EpuClient("http://127.0.0.1:9", timeout=0.5)
    lookup = down.attach(build_lookup(ex.ordonnance(), source=now_source("reader-1", read_id="1-1")))
    journal.record(lookup)
    server = ApiServer(journal, TOKEN)
    health = server.api.health
    try:
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.goto(f"{server.base}/#token={TOKEN}")
            page.wait_for_selector("#link.on")
            card = page.locator(".card")
            expect(card).to_contain_text("ePU injoignable — nouvel essai automatique")
            expect(page.locator("#problems")).to_be_hidden()

            health.report("journal", "journal_unwritable", "journal cannot be written: disk I/O error")
            health.report("epu", "epu_unreachable", "ePU unreachable")
            banner = page.locator("#problems li")
            expect(banner).to_have_count(2)
            expect(banner.nth(0)).to_contain_text("les lectures ne sont PAS enregistrées")
            expect(banner.nth(1)).to_contain_text("ePU injoignable")

            health.resolve("journal", "writable again")
            expect(banner).to_have_count(1)
            with SandboxServer() as sandbox:
                client = EpuClient(sandbox.url, timeout=1)
                client.register(ex.NUMBER, {"lines": []})
                assert recheck_pending(journal, client, health) == 1
            expect(page.locator("#problems")).to_be_hidden()
            expect(card).to_have_count(1)
            expect(card).to_contain_text("disponible")
            assert "injoignable" not in card.inner_text()
            browser.close()
    finally:
        server.stop()
        journal.close()


def test_housekeeping_survives_a_journal_that_cannot_be_written(tmp_path, monkeypatch):
    """Before: a retention purge failing on a full disk ended `serve()`: the whole bridge stopped."""
    import asyncio

    from host_bridge.bridge import service
    from host_bridge.bridge.config import Config
    from host_bridge.bridge.redact import Redactor
    from host_bridge.testbench.fault_rig import free_port

    bridge = service.Bridge(Config(journal=tmp_path / "j.sqlite", epu=None, devices=[], api_port=free_port()),
                            "t" * 20, Redactor())
    calls: list[float] = []

    def purge(older_than_s: float) -> int:
        calls.append(older_than_s)
        raise JournalError("journal cannot be written: database or disk is full")

    monkeypatch.setattr(bridge.journal, "purge", purge)
    monkeypatch.setattr(service, "SCAN_S", 0.05)

    async def serve_a_while() -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(bridge.serve(), 1.0)

    asyncio.run(serve_a_while())
    assert len(calls) >= 3                          # still running, trying again each round


def test_a_streamed_code_not_recorded_while_the_journal_is_full_is_read_from_a_later_frame(tmp_path, monkeypatch):
    """Before: the frame decoder had already counted the sighting, so a code held in view while the journal
    was full was never read (it had to leave the view and come back)."""
    import segno

    from host_bridge.bridge import service
    from host_bridge.bridge.config import Config
    from host_bridge.bridge.redact import Redactor
    from host_bridge.decode.image import load_gray
    from host_bridge.link.reader_link import Frame, NotNow

    bridge = service.Bridge(Config(journal=tmp_path / "j.sqlite", epu=None, devices=[]), "t" * 20, Redactor())
    port = service.ReaderPort("/dev/null", bridge)
    segno.make_qr("HELD-IN-VIEW", error="m").save(tmp_path / "code.png", scale=4, border=4)
    gray = load_gray(tmp_path / "code.png")
    frame = lambda n: Frame(n, "gray8", gray.shape[1], gray.shape[0], gray.tobytes(), 1000 + n)  # noqa: E731
    real = bridge.journal.record
    monkeypatch.setattr(bridge.journal, "record", lambda lookup: (_ for _ in ()).throw(JournalError("disk full")))
    with pytest.raises(NotNow):
        port._on_frame(1, frame(1))
    monkeypatch.setattr(bridge.journal, "record", real)
    port._on_frame(1, frame(2))                     # the next frame, code still in view, space back
    assert [lk["text"] for lk in bridge.journal.after(None)[0]] == ["HELD-IN-VIEW"]
    assert bridge.health.problems() == []


def test_bridges_starting_together_agree_on_one_journal_key(tmp_path):
    """Before: the second bridge could read the key file while the first was still writing it ("is not a key")
    and refuse to start (seen in tests/bridge/test_bridge_mqtt_e2e.py: two bridges, one config directory)."""
    from concurrent.futures import ThreadPoolExecutor

    from host_bridge.bridge.sealing import Sealer

    for n in range(20):
        path = tmp_path / f"run-{n}" / "journal.key"
        with ThreadPoolExecutor(6) as pool:
            sealers = list(pool.map(lambda _: Sealer.from_file(path), range(6)))
        sealed = sealers[0].seal("x", "id")
        assert all(s.open(sealed, "id") == "x" for s in sealers)                # one key for all
        assert [p.name for p in path.parent.iterdir()] == ["journal.key"]     # no temporary file left
