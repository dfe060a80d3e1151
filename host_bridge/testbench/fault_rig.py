"""Real processes to inject bridge faults into: `electeur run`, `electeur sim --pty`, `electeur epu-sandbox`,
mosquitto, an MQTT subscriber and an HTTP webhook receiver whose failures we control.

Used by `tools/reliability.py faults` and the fault tests (`host_bridge/testbench/bridge_faults.py` holds the
scenarios). Every piece is the real thing; only the failures are chosen by us.
"""

from __future__ import annotations

import contextlib
import json
import os
import pwd
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import segno

TOKEN = "fault-rig-token-0123456789"
MOSQUITTO = "/usr/sbin/mosquitto"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(cond: Callable[[], Any], timeout_s: float, what: str) -> None:
    end = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > end:
            raise TimeoutError(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.05)


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), 0.2).close()
        return True
    except OSError:
        return False


def api_get(port: int, path: str, token: str = TOKEN) -> Any:
    """The bridge API's JSON answer; urllib's error (HTTPError, URLError) when it does not give one."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def all_lookups(port: int, token: str = TOKEN) -> list[dict[str, Any]]:
    """Every lookup in the journal, in journal order, through the API's cursor."""
    found: list[dict[str, Any]] = []
    cursor = ""
    while True:
        page = api_get(port, f"/api/lookups?limit=1000&after={cursor}", token)
        if not page["lookups"]:
            return found
        found += page["lookups"]
        cursor = page["next"]


def write_codes(folder: Path, payloads: list[bytes]) -> Path:
    """One QR image per payload, in order, for the virtual reader's camera."""
    folder.mkdir(parents=True, exist_ok=True)
    for n, data in enumerate(payloads):
        segno.make_qr(data, error="m", mode="byte").save(folder / f"{n:04d}.png", scale=4, border=4)
    return folder


class WebhookReceiver:
    """The LGO's webhook endpoint: `mode` "ok" (200), "error" (500); `stop()` closes the port (connection
    refused) and `start()` opens it again on the same port. Keeps every accepted POST and counts refusals."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mode = "ok"
        self.accepted: list[tuple[str, dict[str, Any]]] = []     # (Idempotency-Key, lookup), in arrival order
        self.refused = 0
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/lookups"

    def start(self) -> "WebhookReceiver":
        rig = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if rig.mode == "ok":
                    rig.accepted.append((self.headers.get("Idempotency-Key", ""), json.loads(body)))
                    self.send_response(200)
                else:
                    rig.refused += 1
                    self.send_response(500)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class Broker:
    """Mosquitto on a free loopback port, with persistence so a subscriber's session survives a restart."""

    def __init__(self, workdir: Path, listener: str = "allow_anonymous true\n") -> None:
        """`listener`: config lines for the listener (TLS files, password file); default anonymous, in clear."""
        self.port = free_port()
        self.conf = workdir / "mosquitto.conf"
        # `user`: started as root, mosquitto would switch to user "mosquitto" and could not save its sessions here
        self.conf.write_text(f"listener {self.port} 127.0.0.1\n{listener}persistence true\n"
                             f"persistence_location {workdir}/\nuser {pwd.getpwuid(os.getuid()).pw_name}\n")
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Broker":
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        wait_until(lambda: listening(self.port), 10, "mosquitto")
        return self

    def stop(self) -> None:
        if self.proc:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


class Subscriber:
    """An LGO listening on `electeur/+/lookup`, QoS 1, persistent session: keeps every message it gets."""

    def __init__(self, port: int) -> None:
        self.messages: list[dict[str, Any]] = []
        self.subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="fault-rig-lgo", clean_session=False)
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe("electeur/+/lookup", qos=1)
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.on_message = lambda c, u, msg: self.messages.append(json.loads(msg.payload))
        self.client.reconnect_delay_set(1, 1)
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        if not self.subscribed.wait(10):
            raise TimeoutError("MQTT subscriber did not subscribe")

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


class Process:
    """A child `electeur` process whose stderr is collected line by line (a pipe, never a file: the
    disk-full fault limits the size of the files the bridge writes)."""

    def __init__(self, argv: list[str], workdir: Path, name: str, env: dict[str, str] | None = None) -> None:
        self.log_path = workdir / f"{name}.log"
        self.lines: list[str] = []
        self.proc = subprocess.Popen([sys.executable, "-m", "host_bridge.cli", *argv], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})
        self._log = self.log_path.open("a", encoding="utf-8")
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        for line in self.proc.stderr:  # type: ignore[union-attr]
            self.lines.append(line.rstrip("\n"))
            self._log.write(line)
            self._log.flush()

    def grep(self, pattern: str) -> list[str]:
        return [line for line in list(self.lines) if re.search(pattern, line)]

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def pause(self, paused: bool = True) -> None:
        """SIGSTOP (or SIGCONT) the process and its children (`electeur sim` runs the firmware in a child)."""
        pids, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            with contextlib.suppress(OSError, ValueError):
                todo += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP if paused else signal.SIGCONT)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()


class Bridge(Process):
    """`electeur run` on one reader device, with a config file; the API answers through `get`."""

    def __init__(self, workdir: Path, device: str | list[str], config: str, port: int | None = None) -> None:
        self.port = port or free_port()
        self.journal = workdir / "journal.sqlite"
        conf = workdir / "electeur.toml"
        conf.write_text(config)
        env = {"XDG_CONFIG_HOME": str(workdir / "cfg"), "XDG_DATA_HOME": str(workdir / "data")}
        devices = [a for d in ([device] if isinstance(device, str) else device) for a in ("--device", d)]
        super().__init__(["run", *devices, "--api", f"127.0.0.1:{self.port}", "--token", TOKEN,
                          "--journal", str(self.journal), "--config", str(conf)], workdir, "bridge", env)
        wait_until(lambda: self.get("/api/health") is not None or self.proc.poll() is not None, 30, "bridge API")

    def get(self, path: str) -> Any:
        """The API's JSON answer, or None when the bridge does not answer (killed, restarting)."""
        try:
            return api_get(self.port, path)
        except (urllib.error.URLError, OSError, ValueError):
            return None

    def health(self) -> dict[str, Any]:
        return self.get("/api/health") or {"status": "no answer (API down)", "problems": [], "lookups": -1, "sinks": {}}

    def lookups(self) -> list[dict[str, Any]]:
        return all_lookups(self.port)


class Reader(Process):
    """`electeur sim --pty`: the real firmware showing the given payloads as QR codes, `show_ms` each."""

    def __init__(self, workdir: Path, payloads: list[bytes], show_ms: int) -> None:
        images = write_codes(workdir / "codes", payloads)
        super().__init__(["sim", "--images", str(images), "--pty", "--show-ms", str(show_ms)], workdir, "reader")
        self.device = self.proc.stdout.readline().strip()  # type: ignore[union-attr]
        if not self.device.startswith("/dev/"):
            raise RuntimeError(f"electeur sim did not print its pty: {self.device!r}")


class Sandbox(Process):
    """`electeur epu-sandbox` on a fixed port and database, with optional injected faults."""

    def __init__(self, workdir: Path, port: int, *faults: str) -> None:
        super().__init__(["epu-sandbox", "--db", str(workdir / "epu.sqlite"), "--port", str(port), *faults],
                         workdir, "epu-sandbox")
        self.port = port
        wait_until(lambda: listening(port), 20, "ePU sandbox")
