"""The status of a running reader over the wire protocol (framed output), for `electeur selftest --port`.

The protocol has no status request: the host sends CONFIG_GET (answered by CONFIG) and listens for a few seconds
to HELLO, HEARTBEAT/STATUS, READ, FRAME_START and ERROR. Reads are not acknowledged, so the reader keeps them for
the bridge. What the reader did not say stays missing, and its self-test line FAILs saying so.
"""

from __future__ import annotations

import time
from typing import Any

import serial

from firmware import protocol as P
from host_bridge.devtools.boards import board_names, load_board
from host_bridge.devtools.device import BACK_S, check_port_exists
from host_bridge.errors import UserError

SIM_SENSOR = "simulated camera (frames from files)"


class Heard:
    """Everything a reader said while the self-test listened."""

    def __init__(self) -> None:
        self.hello: dict = {}
        self.config: dict | None = None
        self.beats: list[dict] = []
        self.errors: list[dict] = []
        self.engines: list[str] = []
        self.frames = 0
        self.resets = 0                 # times the port went away under us (the board reset) and came back

    def take(self, msg: P.Message) -> None:
        if msg.type == P.HELLO:
            self.hello = msg.json()
        elif msg.type == P.CONFIG:
            self.config = msg.json()
        elif msg.type in (P.HEARTBEAT, P.STATUS):
            self.beats.append(msg.json())
        elif msg.type == P.ERROR:
            self.errors.append(msg.json())
        elif msg.type == P.READ:
            self.engines.append(P.parse_read(msg)[1]["engine"])
        elif msg.type == P.FRAME_START:
            self.frames += 1


def _decoder(heard: Heard, last: dict) -> dict[str, Any]:
    caps = heard.hello.get("caps", [])
    backend = next((c.split(":", 1)[1] for c in caps if c.startswith("decode:")), None)
    if backend is None and (any(c.startswith("stream:") for c in caps) or (heard.config or {}).get("decode") == "host"):
        backend = "none"
    backend = backend or (heard.engines[-1] if heard.engines else None)
    return {"backend": backend, "ms_per_frame": last.get("decode_ms")}


def _camera(heard: Heard, profile: dict | None, last: dict) -> dict[str, Any]:
    """The camera the reader says it uses (HELLO caps `camera:<driver>`), not the one its profile names."""
    driver = next((c.split(":", 1)[1] for c in heard.hello.get("caps", []) if c.startswith("camera:")), None)
    frames, uptime = last.get("frames"), last.get("uptime_ms")
    seen = bool(frames) or heard.frames > 0 or bool(heard.engines)
    failed = last.get("camera_error") or next((e.get("message") for e in heard.errors if e.get("code") == "camera"), None)
    if driver == "sim":
        sensor = SIM_SENSOR
    elif profile and driver in (None, profile["camera"]["driver"]):
        sensor = profile["camera"]["sensor"]
    else:
        sensor = driver or heard.hello.get("board") or "camera"
    if driver == "none" or failed:
        return {"present": False, "sensor": sensor, "error": failed or "the reader reports no camera"}
    return {"present": seen, "sensor": sensor, "frame_size": (heard.config or {}).get("frame_size", "?"),
            "fps": frames * 1000 / uptime if isinstance(frames, int) and uptime else None,
            "error": None if seen else "no frame or read while listening: show the reader a code"}


def to_status(heard: Heard) -> dict[str, Any]:
    """Map what a reader said into the dict `selftest.evaluate` judges."""
    config = heard.config or {}
    board = heard.hello.get("board", "")
    profile = load_board(board) if board in board_names() else None
    last = heard.beats[-1] if heard.beats else {}
    return {
        "board": board,
        "camera": _camera(heard, profile, last),
        "link_resets": heard.resets,
        "decoder": _decoder(heard, last),
        "output": config.get("output"),
        "usb": {"native": bool(profile and profile["usb"]["native"]), "hid": bool(profile and profile["usb"]["hid"])},
        "mem_free": last.get("mem_free"),
        "config": {"ok": not any(e.get("code") == "config" for e in heard.errors),
                   "errors": [e.get("message", "") for e in heard.errors if e.get("code") == "config"]},
    }


def reader_status(port: str, listen_s: float = 4.0) -> dict[str, Any]:
    """Ask a running reader for its config and listen to it for `listen_s` seconds."""
    check_port_exists(port)
    heard = Heard()
    deadline = time.monotonic() + listen_s
    link = _open(port)
    while True:
        try:
            _listen(link, heard, deadline)
            break
        except (serial.SerialException, OSError):
            # the board reset under us (a watchdog, a power dip, USB re-enumerating): the port comes back
            link.close()
            heard.resets += 1
            link = _reopen(port)
            deadline = max(deadline, time.monotonic() + 1.0)
    link.close()
    if heard.config is None:
        raise UserError(f"no answer to CONFIG_GET on {port} within {listen_s:g} s: is a reader running there with "
                        "output framed? (for a line/hid reader or a bare board: --board NAME)")
    return to_status(heard)


def _open(port: str) -> serial.SerialBase:
    try:
        return serial.serial_for_url(port, baudrate=115200, timeout=0.05)
    except (serial.SerialException, OSError) as exc:
        raise UserError(f"cannot open port {port!r}: {exc}") from exc


def _reopen(port: str, wait_s: float = BACK_S) -> serial.SerialBase:
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return serial.serial_for_url(port, baudrate=115200, timeout=0.05)
        except (serial.SerialException, OSError) as exc:
            if time.monotonic() >= deadline:
                raise UserError(f"the reader on {port} went away while the self-test listened (reset or unplugged) "
                                f"and did not come back within {wait_s:g} s: {exc}") from exc
            time.sleep(0.2)


def _listen(link: serial.SerialBase, heard: Heard, deadline: float) -> None:
    """Ask for the config (again, after a reconnect: a rebooted reader announces itself anew) and listen."""
    decoder = P.Decoder()
    link.write(P.config_get())
    while time.monotonic() < deadline:
        for msg in decoder.feed(link.read(4096)):
            heard.take(msg)
