"""The counter page in headless Chromium: cards, warnings, live updates, manual entry, no script injection."""

from __future__ import annotations

import os

import pytest

from host_bridge.bridge.journal import Journal
from host_bridge.payloads.lookup import build_lookup
from host_bridge.payloads.profiles import default_profiles
from api_server import ApiServer
from conftest import REPO

playwright = pytest.importorskip("playwright.sync_api")
expect = playwright.expect
TOKEN = "page-test-token-0123456789"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
HOSTILE = '<img src=x onerror="document.title=\'pwned\'">'


def lookup(n: int, kind: str, fields: dict, warnings: list | None = None, epu: dict | None = None,
           reader: str = "comptoir-1") -> dict:
    lk = build_lookup(f"read {n}".encode(), source={"reader": reader, "read_id": str(n),
                                                    "time": f"2026-11-23T10:0{n}:00+00:00"})
    action = default_profiles()[kind].action
    lk.update(kind=kind, fields=fields, warnings=warnings or [], status="warning" if warnings else "ok",
              action={"code": action["code"], "label": action["label"], "reason": action["reason"]})
    if epu:
        lk["epu"] = epu
    return lk


@pytest.mark.slow
def test_counter_page_shows_reads_live_and_manual_entry(tmp_path):
    journal = Journal(tmp_path / "j.sqlite")
    journal.record(lookup(1, "ordonnance", {
        "prescription_number": "K7P39QXA2M4TB8RD", "prescriber_rpps": "10101010101", "patient_family_name": "DUPONT",
        "patient_given_names": "Marie", "patient_birth_date": "1980-05-17"}, epu={"state": "available"}))
    journal.record(lookup(2, "ins", {"ins_number": "280057512345678", "patient_family_name": HOSTILE},
                          [{"code": "not_a_prescription", "severity": "warning",
                            "message": "Une ordonnance numérique était attendue, mais c'est le code INS du patient."}]))
    server = ApiServer(journal, TOKEN, devices=lambda: [
        {"device": "/dev/ttyUSB0", "state": "connected", "error": None, "reads": 3,
         "readers": [{"id": 1, "name": "comptoir-1", "board": "esp32-s3-eye", "firmware": "0.1.0"}]}])
    base = server.base + "/"
    try:
        with playwright.sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1200, "height": 800})
            page.goto(base + "#token=" + TOKEN)
            page.wait_for_selector("#link.on")
            cards = page.locator(".card")
            expect(cards).to_have_count(2)
            first = cards.nth(1).inner_text()
            assert "Ordonnance numérique" in first and "DUPONT Marie" in first and "K7P39QXA2M4TB8RD" in first
            assert "RPPS 10101010101" in first and "disponible" in first and "17/05/1980" in first
            ins = cards.nth(0).inner_text()
            assert "INS — pas une ordonnance" in ins and "code INS du patient" in ins
            assert HOSTILE.split()[0] in ins and page.locator(".card img").count() == 0  # text, not markup
            assert "comptoir-1" in page.locator("#readers").inner_text()
            assert "token" not in page.url  # the token leaves the address bar

            journal.record(lookup(3, "ordonnance", {"prescription_number": "AAAA1111BBBB2222"},
                                  [{"code": "already_dispensed", "severity": "warning",
                                    "message": "Selon l'ePU, cette ordonnance a déjà été délivrée en totalité."}],
                                  epu={"state": "dispensed"}))
            expect(cards).to_have_count(3)
            assert "déjà été délivrée en totalité" in cards.nth(0).inner_text() and "déjà délivrée" in cards.nth(0).inner_text()

            page.fill("#code", "K7P3 9QXA 2M4T B8RC")  # one character mistyped
            page.click("#manual button")
            expect(page.locator("#manual-error")).not_to_be_empty()
            page.fill("#code", "K7P3 9QXA 2M4T B8RD")
            page.click("#manual button")
            expect(cards).to_have_count(4)
            assert "K7P39QXA2M4TB8RD" in cards.nth(0).inner_text()
            assert page.title() != "pwned"
            shot = page.screenshot(path=str(tmp_path / "counter-page.png"))
            assert len(shot) > 10_000
            if os.environ.get("ELECTEUR_UPDATE_SCREENSHOTS"):  # refresh the one in docs/ on purpose only
                (REPO / "docs" / "counter-page.png").write_bytes(shot)

            bad = browser.new_page()
            bad.goto(base + "#token=wrong")
            bad.wait_for_selector("#login:not([hidden])")
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
