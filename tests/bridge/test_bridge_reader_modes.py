"""Readers that do not speak the framed protocol are recognised and the bridge says what to do; the reader id
and name come from the reader's own config (saved by Windows Notepad, BOM included) and survive a bridge restart."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading

import pytest
import segno

from host_bridge.testbench.fault_rig import all_lookups, free_port, wait_until
from host_bridge.link.sniff import foreign
from tests.bridge.test_bridge_run import call
from tests.bridge.test_counter_page import CHROMIUM_ARGS

TOKEN = "modes-test-token-0123456789"
REPL = b"MicroPython v1.27.0 on 2025-12-09; Raspberry Pi Pico with RP2040\r\nType \"help()\" for more information.\r\n>>> "


class Talker:
    """A TCP 'reader' that sends the same bytes to every connection, unasked, then stays connected."""

    def __init__(self, data: bytes) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.data, self.conns = data, []
        threading.Thread(target=self._serve, daemon=True).start()

    @property
    def device(self) -> str:
        return f"tcp://127.0.0.1:{self.sock.getsockname()[1]}"

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            conn.sendall(self.data)

    def close(self) -> None:
        for c in [self.sock, *self.conns]:
            c.close()


def spawn(tmp_path, name: str, *args: str) -> subprocess.Popen:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "cfg"), "XDG_DATA_HOME": str(tmp_path / "data")}
    return subprocess.Popen([sys.executable, "-m", "host_bridge.cli", *args], stdout=subprocess.PIPE,
                            stderr=(tmp_path / f"{name}.log").open("ab"), text=True, env=env)


def stop(*procs: subprocess.Popen | None) -> None:
    for proc in procs:
        if proc and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)


def devices(port: int) -> dict[str, dict]:
    try:
        return {d["device"]: d for d in call(port, "/api/devices", TOKEN)[1]["devices"]}
    except OSError:
        return {}


def test_what_speaks_on_a_port_is_named_with_what_to_do() -> None:
    assert "mode ligne" in foreign(b"EP1|K7P39QXA2M4TB8RD|750712184|...\r\n", "COM3")
    assert "--output framed" in foreign(b"EP1|K7P39QXA2M4TB8RD\r\n", "COM3")
    assert "invite >>>" in foreign(REPL, "COM3")
    noise = bytes(random.Random(1).randrange(1, 256) for _ in range(600))
    assert "n'envoie pas le protocole framed" in foreign(noise, "COM3")
    assert foreign(b"EP1|K7P3", "COM3") is None          # nothing proven yet: wait for more


@pytest.mark.slow
def test_line_mode_and_foreign_ports_are_flagged_and_the_reader_config_id_survives_a_restart(tmp_path):
    images = tmp_path / "codes"
    images.mkdir()
    for n in range(20):    # a read every 300 ms, then again: a line reader's reads go on after the bridge opened it
        segno.make_qr(f"MODES-{n}", error="m").save(images / f"{n:02d}.png", scale=4, border=4)
    flash = tmp_path / "flash"
    flash.mkdir()   # the reader's config as Windows Notepad saves it: UTF-8 with a BOM; one key it does not know
    (flash / "config.json").write_bytes(b"\xef\xbb\xbf" + json.dumps({"reader_id": 7, "colour": "bleu"}).encode())
    framed = spawn(tmp_path, "framed", "sim", "--images", str(images), "--pty", "--show-ms", "200", "--flash", str(flash),
                   "--loop")
    line = spawn(tmp_path, "line", "sim", "--images", str(images), "--pty", "--show-ms", "300", "--mode", "line", "--loop")
    noise, repl = Talker(bytes(random.Random(2).randrange(1, 256) for _ in range(700))), Talker(REPL)
    port = free_port()
    bridge = None
    try:
        framed_dev, line_dev = framed.stdout.readline().strip(), line.stdout.readline().strip()
        run = ("run", "--api", f"127.0.0.1:{port}", "--token", TOKEN, "--journal", str(tmp_path / "j.sqlite"),
               "--device", framed_dev, "--device", line_dev, "--device", noise.device, "--device", repl.device)
        bridge = spawn(tmp_path, "bridge", *run)
        wait_until(lambda: sum(d["state"] == "wrong_mode" for d in devices(port).values()) == 3, 60, "3 wrong modes")
        wait_until(lambda: len(all_lookups(port, TOKEN)) >= 2, 60, "the framed reader's reads")
        found = devices(port)
        assert "mode ligne" in found[line_dev]["error"] and "--output framed" in found[line_dev]["error"]
        assert "n'envoie pas le protocole framed" in found[noise.device]["error"]
        assert "invite >>>" in found[repl.device]["error"]
        assert found[framed_dev]["state"] == "connected" and [r["id"] for r in found[framed_dev]["readers"]] == [7]
        assert {lk["source"]["reader"] for lk in all_lookups(port, TOKEN)} == {"reader-7"}   # none from line mode
        health = call(port, "/api/health", TOKEN)[1]
        codes = sorted(p["code"] for p in health["problems"])
        assert health["status"] == "degraded" and codes == ["reader_config"] + ["reader_wrong_mode"] * 3
        config_problem = next(p["message"] for p in health["problems"] if p["code"] == "reader_config")
        assert "colour" in config_problem and "lecteur 7" in config_problem

        with pytest.importorskip("playwright.sync_api").sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1366, "height": 900})
            page.goto(f"http://127.0.0.1:{port}/#token={TOKEN}")
            page.wait_for_selector("#link.on")
            readers = page.inner_text("#readers")
            assert readers.count("mauvais mode") == 3 and "lecteur 7" in readers
            assert "mode ligne" in page.inner_text("#problems")
            browser.close()

        assert line.poll() is None                     # the bridge never wrote to the line reader: still reading

        stop(bridge)                                   # restarted: the reader's next frame proves it framed,
        bridge = spawn(tmp_path, "bridge", *run)       # the bridge's CONFIG_GET gets its HELLO back
        wait_until(lambda: (devices(port).get(framed_dev, {}).get("readers") or [{}])[0].get("board"), 30,
                   "the reader known again after the restart")
        assert [r["id"] for r in devices(port)[framed_dev]["readers"]] == [7]
    finally:
        stop(bridge, framed, line)
        noise.close()
        repl.close()
