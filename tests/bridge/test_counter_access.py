"""First access to the counter page from the counter PC: a one-time link (from `electeur run` or `electeur open`)
logs the browser in for good (an HttpOnly SameSite=Strict cookie, kept across browser and bridge restarts); without
it the page says "jeton requis" and where the token lives, not "hors ligne"."""

from __future__ import annotations

import contextlib
import os
import pty
import re
import select
import signal
import ssl
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import pytest

from host_bridge.testbench.fault_rig import free_port, listening, wait_until
from host_bridge.cli import main
from tests.bridge.test_bridge_api_exposure import TOKEN as TLS_TOKEN, tls_bridge  # noqa: F401 (fixture)
from tests.bridge.test_bridge_run import call, start
from tests.bridge.test_counter_page import CHROMIUM_ARGS

playwright = pytest.importorskip("playwright.sync_api")
expect = playwright.expect


def start_in_terminal(tmp_path, port: int) -> tuple[subprocess.Popen, str]:
    """`electeur run` with its stderr on a terminal (a pty), as a pharmacist starts it; and the one-time link it
    prints there."""
    master, slave = pty.openpty()
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_DATA_HOME": str(tmp_path / "data")}
    proc = subprocess.Popen([sys.executable, "-m", "host_bridge.cli", "run", "--api", f"127.0.0.1:{port}",
                             "--device", "tcp://127.0.0.1:1"], stdout=subprocess.DEVNULL, stderr=slave, env=env)
    os.close(slave)
    said = b""
    while b"/open?code=" not in said or not said.endswith(b"\n"):
        ready, _, _ = select.select([master], [], [], 15)
        assert ready, f"no one-time link printed: {said!r}"
        said += os.read(master, 4096)
    threading.Thread(target=lambda: _drain(master), daemon=True).start()    # keep the terminal read
    wait_until(lambda: listening(port), 15, "the bridge's API")
    return proc, re.search(r"open +(http://\S+/open\?code=\S+)", said.decode()).group(1)


def _drain(fd: int) -> None:
    with contextlib.suppress(OSError):
        while os.read(fd, 4096):
            pass


def electeur(tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_DATA_HOME": str(tmp_path / "data")}
    return subprocess.run([sys.executable, "-m", "host_bridge.cli", *args], capture_output=True, text=True, env=env,
                          timeout=30)


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(10)


@pytest.mark.slow
def test_one_time_link_logs_the_browser_in_across_restarts_and_a_new_tab_says_jeton_requis(tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    token_file = tmp_path / "cfg" / "electeur" / "token"
    proc, link = start_in_terminal(tmp_path, port)
    try:
        status, body = call(port, "/api/health", None)
        assert status == 401 and body["token_where"] == str(token_file)   # the API says where the token is
        with playwright.sync_playwright() as p:
            profile = tmp_path / "chromium-profile"
            ctx = p.chromium.launch_persistent_context(str(profile), executable_path="/usr/bin/chromium",
                                                       args=CHROMIUM_ARGS)
            page = ctx.new_page()
            page.goto(link)
            page.wait_for_selector("#link.on")
            assert page.url == base and "code" not in page.url
            cookie, = ctx.cookies()
            assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["expires"] > 0
            assert page.evaluate("document.cookie") == ""      # page scripts cannot read the token
            again = ctx.new_page()
            again.goto(link)                                    # a one-time link works once
            assert "Lien refusé" in again.inner_text("body") and "electeur open" in again.inner_text("body")
            ctx.close()

            stop(proc)                                          # the bridge restarts, the browser restarts
            proc = start(tmp_path, port)                        # now as a service: its log shows no link
            ctx = p.chromium.launch_persistent_context(str(profile), executable_path="/usr/bin/chromium",
                                                       args=CHROMIUM_ARGS)
            page = ctx.new_page()
            page.goto(base)
            page.wait_for_selector("#link.on")                  # still logged in: no token typed, ever
            ctx.close()

            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            fresh = browser.new_page()                          # a new browser with nothing kept
            fresh.goto(base)
            expect(fresh.locator("#link")).to_have_text("jeton requis")
            expect(fresh.locator("#login")).to_be_visible()
            assert str(token_file) in fresh.inner_text("#token-where")
            assert "electeur open" in fresh.inner_text("#login")

            opened = electeur(tmp_path, "open", "--print", "--api", f"127.0.0.1:{port}")
            assert opened.returncode == 0, opened.stderr
            fresh.goto(opened.stdout.strip())                   # `electeur open`: a fresh one-time link
            fresh.wait_for_selector("#link.on")
            expect(fresh.locator("#login")).to_be_hidden()
            browser.close()
    finally:
        stop(proc)
    log = proc.communicate()[1] or ""
    assert "/open?code=" not in log and "run 'electeur open'" in log


def test_electeur_open_without_a_bridge_or_a_token_says_what_to_do(tmp_path):
    port = free_port()
    out = electeur(tmp_path, "open", "--print", "--api", f"127.0.0.1:{port}")
    assert out.returncode == 2 and "no token file" in out.stderr and "electeur run" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    out = electeur(tmp_path, "open", "--print", "--api", f"127.0.0.1:{port}", "--token", "x" * 20)
    assert out.returncode == 2 and f"no bridge answering on http://127.0.0.1:{port}" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_electeur_open_reaches_a_tls_bridge_and_its_link_sets_a_secure_cookie(tls_bridge, tmp_path, capsys):  # noqa: F811
    origin, _, _ = tls_bridge
    conf = tmp_path / "electeur.toml"
    conf.write_text(f'api = "{origin[8:]}"\ntoken = "{TLS_TOKEN}"\napi_cert = "{tmp_path / "bridge.crt"}"\n'
                    f'api_key = "{tmp_path / "bridge.key"}"\napi_origins = ["{origin}"]\n')
    assert main(["open", "--print", "--config", str(conf)]) == 0
    link = capsys.readouterr().out.strip()
    assert link.startswith(f"{origin}/open?code=")
    trust = ssl.create_default_context(cafile=str(tmp_path / "bridge.crt"))
    trust.check_hostname, trust.verify_flags = False, trust.verify_flags | ssl.VERIFY_X509_PARTIAL_CHAIN
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=trust), NoRedirect())
    with pytest.raises(urllib.error.HTTPError) as answer:
        opener.open(link, timeout=5)
    cookie = answer.value.headers["Set-Cookie"]
    assert answer.value.code == 303 and "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None
