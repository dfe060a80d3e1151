"""The hostile-code corpus (tools/hostile_codes.py, plus codes that try to flip a flag in the page) through the
real chain: `electeur sim --pty` (real firmware, framed) → `electeur run` → the counter page in headless
Chromium, and typed into manual entry. No script runs (flag never set, no dialog, no CSP violation, no
element from a payload), payload text shows as inert text with bidi and invisible characters made visible,
huge payloads are cut on the card while the journal keeps every byte, and refused manual entries journal
nothing.
"""

from __future__ import annotations

import base64
import re

import pytest
import segno

from host_bridge.testbench.fault_rig import all_lookups
from tests.bridge.test_bridge_health_data import settled_count, spawn
from tests.bridge.test_bridge_run import call, free_port
from tests.bridge.test_bridge_sim_e2e import stop, wait_until
from tests.bridge.test_counter_page import CHROMIUM_ARGS
from tests.payloads.test_hostile_codes import hostile

playwright = pytest.importorskip("playwright.sync_api")
TOKEN = "hostile-page-token-0123456789"
FLAG = "window.__pwned=1"
PAGE_ATTACKS = [f'<img src=x onerror="{FLAG}">', f'"><svg onload={FLAG}>', f"<script>{FLAG}</script>"]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, list[bytes]]:
    """17 hostile codes and 3 that target the page: 20 images, the page's card limit."""
    out = tmp_path_factory.mktemp("hostile-page")
    payloads = [base64.b64decode(e["bytes_b64"]) for e in hostile.write(out)]
    for n, attack in enumerate(PAGE_ATTACKS):
        segno.make_qr(attack, error="m").save(out / f"zz-page-{n}.png", scale=4, border=4)
        payloads.append(attack.encode())
    (out / "manifest.json").unlink()
    return out, payloads


@pytest.mark.slow
def test_hostile_codes_through_sim_bridge_and_counter_page_stay_inert_text(tmp_path, corpus) -> None:
    images, payloads = corpus
    port = free_port()
    (tmp_path / "electeur.toml").write_text(f'api = "127.0.0.1:{port}"\ntoken = "{TOKEN}"\n'
                                            f'journal = "{tmp_path / "journal.sqlite"}"\n[epu]\nenabled = false\n')
    sim = spawn(tmp_path, "sim", "sim", "--images", str(images), "--pty", "--show-ms", "400", stdout=-1)
    bridge = None
    try:
        device = sim.stdout.readline().strip()
        bridge = spawn(tmp_path, "bridge", "run", "--device", device, "--config", str(tmp_path / "electeur.toml"))
        counts: list[int] = []
        wait_until(lambda: settled_count(port, TOKEN, counts, at_least=len(payloads)), 120, "the hostile reads to settle")
        lookups = all_lookups(port, TOKEN)
        page_report = open_counter_page(port)
        manual = type_hostile_codes(port, payloads)
        after = all_lookups(port, TOKEN)
    finally:
        stop(bridge, sim)

    # the journal keeps every read whole: exact bytes, the 2,953-byte QR included
    kept = {base64.b64decode(lk["bytes_b64"]) for lk in lookups}
    assert kept == set(payloads) and len(lookups) == len(payloads)
    assert max(len(lk["text"]) for lk in lookups) >= 2900
    assert {a.encode() for a in PAGE_ATTACKS} <= kept

    assert page_report["flag"] is None and page_report["dialogs"] == [] and page_report["errors"] == []
    assert page_report["elements"] == 0                           # no <img>, <svg>, <script>... from a payload
    text = page_report["text"]
    assert all(attack in text for attack in PAGE_ATTACKS)         # shown, as text
    assert "\u202e" not in text and "⟦U+202E⟧" in text             # the bidi override is visible, not obeyed
    assert "\x1b" not in text and "⟦U+001B⟧" in text               # so is an escape
    assert "lecture complète dans le journal" in text and page_report["longest_value"] <= 260
    assert page_report["cards"] == len(lookups)

    assert manual <= {422} and "n'est pas un code" in page_report["typed_error"]
    print(f"\nhostile page: {len(payloads)} codes shown, {len(lookups)} journaled byte for byte, {page_report['cards']} "
          f"cards, scripts run 0, dialogs 0, script/CSP errors 0, payload elements 0, longest value shown "
          f"{page_report['longest_value']} chars, manual entries {len(payloads)} refused {sorted(manual)}, journaled 0")
    assert [lk["id"] for lk in after] == [lk["id"] for lk in lookups]   # refused manual entries journal nothing


def open_counter_page(port: int) -> dict:
    """Load the page with the token, wait for the cards, report what a script injection would have changed."""
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        dialogs: list[str] = []
        errors: list[str] = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        # CSP violations ("Refused to execute/load ...") and script errors count; the expected 4xx answers
        # (no favicon, the refused manual entry) are network messages, not script
        page.on("console", lambda m: errors.append(m.text)
                if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
        page.goto(f"http://127.0.0.1:{port}/#token={TOKEN}")
        page.wait_for_selector("#link.on")
        page.wait_for_selector(".card")
        page.wait_for_timeout(500)                                 # time for an onerror/onload to fire
        report = {
            "flag": page.evaluate("window.__pwned ?? null"),
            "elements": page.locator("#cards img, #cards svg, #cards script, #cards iframe, #cards a").count(),
            "text": page.locator("#cards").inner_text(),
            "cards": page.locator(".card").count(),
            "longest_value": page.evaluate("Math.max(...[...document.querySelectorAll('.card dd, .card li')]"
                                           ".map(e => Array.from(e.textContent).length))"),
        }
        page.fill("#code", PAGE_ATTACKS[0])                        # typed at the counter: refused, shown as text
        page.click("#manual button")
        page.locator("#manual-error", has_text=re.compile(".")).wait_for()  # no wait_for_function: CSP forbids eval
        report["typed_error"] = page.locator("#manual-error").inner_text()
        report["flag"] = report["flag"] or page.evaluate("window.__pwned ?? null")
        report["elements"] += page.locator("#manual img, #manual svg, #manual script").count()
        report["dialogs"], report["errors"] = dialogs, errors
        browser.close()
    return report


def type_hostile_codes(port: int, payloads: list[bytes]) -> set[int]:
    """Every hostile payload sent as a manual entry through the API: the answer statuses."""
    statuses = set()
    for data in payloads:
        code = data.decode("utf-8", "replace")
        status, body = call(port, "/api/lookups/manual", TOKEN, {"code": code})
        assert isinstance(body.get("error"), str), body
        statuses.add(status)
    return statuses
