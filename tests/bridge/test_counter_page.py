"""The counter page in headless Chromium: the patient at the counter first (identity, warnings, prescriptions
with their ePU state, mutuelle rights as dates, packs), earlier patients collapsed, "Nouveau patient" (button
and F2), ePU down, manual entry, no script injection. Screenshots at 1366 and 1024 wide (docs/)."""

from __future__ import annotations

import datetime as dt
import os

import pytest

import payload_examples as ex
from host_bridge.bridge.epu_recheck import epu_problem
from host_bridge.bridge.journal import Journal
from host_bridge.counter.pipeline import LookupPipeline
from host_bridge.epu.client import EpuClient
from host_bridge.payloads.lookup import build_lookup
from host_bridge.payloads.validators import iso7064_mod37_36_check
from host_bridge.testbench.epu_sandbox import SandboxServer
from host_bridge.testbench.fault_rig import free_port
from api_server import ApiServer
from conftest import REPO

playwright = pytest.importorskip("playwright.sync_api")
expect = playwright.expect
TOKEN = "page-test-token-0123456789"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
HOSTILE = '<img src=x onerror="document.title=\'pwned\'">'
SHOTS = bool(os.environ.get("ELECTEUR_UPDATE_SCREENSHOTS"))  # refresh the ones in docs/ on purpose only


def number(prefix: str) -> str:
    return prefix + iso7064_mod37_36_check(prefix)


class Counter:
    """Reads from reader 1 through the real lookup pipeline, its counter session and the ePU client, journaled."""

    def __init__(self, journal: Journal, epu: EpuClient) -> None:
        self.journal = journal
        self.pipeline = LookupPipeline(epu=epu)
        self.t = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=10)
        self.n = 0

    def read(self, data: bytes, *, after_s: float = 15) -> dict:
        self.t += dt.timedelta(seconds=after_s)
        self.n += 1
        lk = self.pipeline.lookup(data, {"reader": "reader-1", "read_id": str(self.n), "engine": "zxing",
                                         "time": self.t.isoformat()})
        self.journal.record(lk)
        return lk


@pytest.fixture()
def counter(tmp_path):
    with SandboxServer() as sandbox:
        sandbox.store.register(number("AAAA1111BBBB222"), {"patient": "test"})
        sandbox.store.dispense(number("AAAA1111BBBB222"), "total")
        sandbox.store.register(number("K7P39QXA2M4TB8R"), {"patient": "test"})
        sandbox.store.register(number("CCCC3333DDDD444"), {"patient": "test"})
        sandbox.store.cancel(number("CCCC3333DDDD444"))
        journal = Journal(tmp_path / "j.sqlite")
        server = ApiServer(journal, TOKEN, devices=lambda: [
            {"device": "/dev/ttyACM0", "state": "connected", "error": None, "reads": 9,
             "readers": [{"id": 1, "name": None, "board": "pico", "firmware": "0.1.0"}]}])
        c = Counter(journal, EpuClient(sandbox.url))
        server.api.new_patient = c.pipeline.new_patient
        try:
            yield c, server, sandbox
        finally:
            server.stop()
            journal.close()


def browse(p, width: int):
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
    return browser, browser.new_page(viewport={"width": width, "height": 900})


@pytest.mark.slow
def test_the_patient_at_the_counter_comes_first_and_earlier_patients_fold_away(counter, tmp_path):
    c, server, _ = counter
    # the previous patient: card, a prescription already dispensed, mutuelle
    c.read(ex.apcv("Martin", "Zoé", "1975-06-01"))
    c.read(ex.ordonnance(number("AAAA1111BBBB222"), "MARTIN", "Zoé", "1975-06-01"))
    c.read(ex.amc())
    # the patient at the counter: card, a prescription, a cancelled one, mutuelle, a pack shown by mistake
    c.read(ex.apcv("Dupont", "Marie-Hélène", "1980-02-29"), after_s=40)
    c.read(ex.ordonnance(number("K7P39QXA2M4TB8R"), "DUPONT", "Marie Hélène", "1980-02-29"))
    c.read(ex.ordonnance(number("CCCC3333DDDD444"), "DUPONT", "Marie Hélène", "1980-02-29"))
    c.read(ex.amc("20260101-20281231"))
    c.read(b"010340093000001417281200101045A" + b"\x1d" + b"21SN123")
    with playwright.sync_playwright() as p:
        for width in (1024, 1366):  # the interactions change the page: 1366 last
            browser, page = browse(p, width)
            page.goto(server.base + "/#token=" + TOKEN)
            page.wait_for_selector("#link.on")
            current = page.locator("#current")
            expect(current.locator(".card")).to_have_count(5)
            assert current.locator(".patient .name").inner_text() == "Dupont Marie-Hélène"
            assert "29/02/1980" in current.locator(".patient").inner_text()
            assert "carte Vitale (apCV)" in current.locator(".patient").inner_text()
            first_warning = page.locator("#current-warnings li").first.inner_text()
            assert "annulé cette ordonnance" in first_warning   # warnings first, above the cards
            cancelled = current.locator(".card.epu-cancelled")
            assert "ePU : annulée" in cancelled.inner_text()
            assert cancelled.evaluate("e => getComputedStyle(e).borderTopColor") == "rgb(179, 38, 30)"  # red
            assert "ePU : disponible" in current.locator(".card.epu-available").inner_text()
            amc = current.locator(".card.kind-amc").inner_text()
            assert "Droits valables aujourd'hui : du 01/01/2026 au 31/12/2028" in amc
            pack = current.locator(".card.kind-gs1").inner_text()
            assert "3400930000014" in pack and "CIP13" in pack and "31/12/2028" not in pack and "12/2028" in pack
            assert "1045A" in pack and "scannez-la à l'étape de délivrance" in pack
            assert "lecteur 1" in current.inner_text() and "reader-1" not in page.inner_text("body")
            earlier = page.locator("#earlier-list > details")   # one per earlier patient
            expect(earlier).to_have_count(1)
            assert earlier.get_attribute("open") is None and not earlier.locator(".card").first.is_visible()
            assert "Martin Zoé" in earlier.inner_text()
            assert "1 alerte" in earlier.locator(":scope > summary").inner_text()
            assert page.evaluate("document.scrollingElement.scrollWidth") <= width  # nothing sticks out
            name = "counter-page.png" if width == 1366 else f"counter-page-{width}.png"
            shot = page.screenshot(path=str(tmp_path / name), full_page=True)
            if SHOTS:
                (REPO / "docs" / name).write_bytes(shot)
            if width == 1366:
                earlier.locator(":scope > summary").click()   # unfolds on demand
                expect(earlier.locator(".card.epu-dispensed")).to_be_visible()
                assert "déjà délivrée" in earlier.inner_text()

                page.keyboard.press("F2")             # the pharmacist: next patient
                expect(page.locator("#empty")).to_be_visible()
                expect(current.locator(".card")).to_have_count(0)
                expect(earlier).to_have_count(2)
                c.read(ex.ordonnance(number("K7P39QXA2M4TB8R"), "DUPONT", "Marie Hélène", "1980-02-29"), after_s=5)
                expect(current.locator(".card")).to_have_count(1)   # same prescription, new patient's session:
                assert "déjà été lue" not in page.inner_text("#current")  # not "read twice"
                page.click("#new-patient")
                expect(current.locator(".card")).to_have_count(0)

                page.fill("#code", "K7P3 9QXA 2M4T B8RC")  # one character mistyped
                page.click("#manual button")
                expect(page.locator("#manual-error")).not_to_be_empty()
                page.fill("#code", "K7P3 9QXA 2M4T B8RD")
                page.click("#manual button")
                expect(current.locator(".card")).to_have_count(1)
                assert "saisie manuelle" in current.inner_text()
            browser.close()


@pytest.mark.slow
def test_epu_down_is_a_banner_and_each_prescription_says_it_will_be_checked_again(counter, tmp_path):
    c, server, _ = counter
    down = EpuClient(f"http://127.0.0.1:{free_port()}", timeout=0.5)   # nothing listens there
    c.pipeline.epu = down
    c.read(ex.apcv("Dupont", "Marie", "1980-02-29"))
    lk = c.read(ex.ordonnance(number("K7P39QXA2M4TB8R")))
    epu_problem(server.api.health, down, lk)
    c.read(ex.amc())
    with playwright.sync_playwright() as p:
        browser, page = browse(p, 1366)
        page.goto(server.base + "/#token=" + TOKEN)
        page.wait_for_selector("#link.on")
        expect(page.locator("#problems li")).to_contain_text("ePU injoignable")
        assert "ePU injoignable — nouvel essai automatique" in page.locator("#current .card.kind-ordonnance").inner_text()
        shot = page.screenshot(path=str(tmp_path / "epu-down.png"), full_page=True)
        if SHOTS:
            (REPO / "docs" / "counter-page-epu-down.png").write_bytes(shot)
        browser.close()


@pytest.mark.slow
def test_payload_text_stays_text(tmp_path):
    journal = Journal(tmp_path / "j.sqlite")
    lk = build_lookup(ex.ins(), source={"reader": "reader-1", "read_id": "1", "time": "2026-11-23T10:00:00+00:00"})
    lk["fields"]["patient_family_name"] = HOSTILE
    journal.record(lk)
    server = ApiServer(journal, TOKEN)
    try:
        with playwright.sync_playwright() as p:
            browser, page = browse(p, 1200)
            page.goto(server.base + "/#token=" + TOKEN)
            page.wait_for_selector("#link.on")
            expect(page.locator(".card")).to_have_count(1)
            assert HOSTILE.split()[0] in page.inner_text("#current") and page.locator("#cards img").count() == 0
            assert "code INS du patient" in page.inner_text("#current-warnings") or \
                "Code INS présenté" in page.inner_text("#current-warnings")
            assert "token" not in page.url and page.title() != "pwned"
            bad = browser.new_page()
            bad.goto(server.base + "/#token=wrong")
            bad.wait_for_selector("#login:not([hidden])")
            expect(bad.locator("#link")).to_have_text("jeton requis")
            browser.close()
    finally:
        server.stop()
        journal.close()


@pytest.mark.slow
def test_counter_page_shows_the_renewal_and_records_a_refusal_with_its_reason(tmp_path):
    from functools import partial

    import payload_examples as ex
    from host_bridge.bridge.refusal import refuse
    from host_bridge.epu.client import EpuClient
    from host_bridge.testbench.epu_sandbox import SandboxServer

    journal = Journal(tmp_path / "j.sqlite")
    with SandboxServer() as sandbox:
        epu = EpuClient(sandbox.url)
        epu.register(ex.NUMBER, {"renewals": 3})
        epu.dispense(ex.NUMBER, "total")                                  # the first dispensation, last month
        journal.record(epu.attach(build_lookup(ex.ordonnance(), source={"reader": "comptoir-1", "read_id": "1",
                                                                         "time": "2026-11-23T10:00:00+00:00"})))
        server = ApiServer(journal, TOKEN)
        server.api.refuse = partial(refuse, journal, epu)
        try:
            with playwright.sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1200, "height": 800})
                page.goto(server.base + "/#token=" + TOKEN)
                page.wait_for_selector("#link.on")
                card = page.locator(".card")
                expect(card).to_contain_text("renouvellement n° 1 sur 3")
                page.click(".refusal summary")
                page.click(".refusal button")                                # no reason: the browser asks for one
                expect(card).not_to_contain_text("REFUS E-PRESCRIPTION enregistré")
                page.fill(".refusal input", "Identité du patient incohérente")
                page.click(".refusal button")
                expect(page.locator(".refusal-banner")).to_contain_text("Motif : Identité du patient incohérente")
                expect(card).to_contain_text("ordonnance classique")
                browser.close()
        finally:
            server.stop()
        assert journal.get(journal.latest(1)[0][0]["id"])["revision"] == 2     # journaled as a revision
    journal.close()
