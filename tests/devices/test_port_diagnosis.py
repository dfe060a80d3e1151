"""`electeur deploy --port` and `selftest --board` on a port that is not a MicroPython raw REPL: within a few
seconds, one line saying what is on the port and what to do (they hung until killed in mpremote's
enter_raw_repl). Real parts: pyserial over a pty and the real command; the far end of the pty plays a silent
port, a device that never stops talking, an older reader firmware (framed, or printing lines) deaf to Ctrl-C
and RELEASE, and the simulated raw-REPL board."""

from __future__ import annotations

import os
import pty
import threading
import time
import tty
from typing import Iterator

import pytest

from firmware import protocol as P
from host_bridge.devtools.raw_repl import describe
from tests.devices.test_deploy import simboard  # noqa: F401  (fixture)

LIMIT_S = 20.0      # the handshake gives up after 3.7 s; the rest is deploy compiling the firmware on a loaded CI


def electeur(capsys, *args: str) -> tuple[int, str, float]:
    """Run the command in a thread, so that a hang fails the test after LIMIT_S instead of blocking it."""
    from host_bridge.cli import main
    result: list[int] = []
    t = time.monotonic()
    worker = threading.Thread(target=lambda: result.append(main(list(args))), daemon=True)
    worker.start()
    worker.join(LIMIT_S + 30)
    took = time.monotonic() - t
    assert result, f"electeur {' '.join(args)} still running after {took:.0f} s"
    return result[0], capsys.readouterr().err, took


@pytest.fixture
def device_pty() -> Iterator[tuple[str, int]]:
    """(path, master fd) of a pty whose far end the test plays."""
    master, slave = pty.openpty()
    tty.setraw(slave)
    yield os.ttyname(slave), master
    os.close(master)
    os.close(slave)


def one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize("command", [["deploy", "--board", "esp32-s3-eye", "--output", "framed"],
                                     ["selftest", "--board", "esp32-s3-eye"]])
def test_a_silent_port_times_out_saying_so(device_pty, capsys, command: list[str]) -> None:
    path, _ = device_pty
    code, err, took = electeur(capsys, *command, "--port", path)
    assert code == 2 and took < LIMIT_S
    line = one_line(err)
    assert f"no MicroPython raw REPL on {path} within 3 s" in line and "stayed silent" in line
    assert "reset button" in line


def refused_with(capsys, device_pty, far_end, *command: str) -> str:
    """Run `command` on the pty while `far_end(master, stop)` plays the device; its one line of refusal."""
    path, master = device_pty
    stop = threading.Event()
    threading.Thread(target=far_end, args=(master, stop), daemon=True).start()
    try:
        code, err, took = electeur(capsys, *command, "--port", path)
    finally:
        stop.set()
    assert code == 2 and took < LIMIT_S
    return one_line(err)


def test_a_device_that_never_stops_talking_is_an_unknown_device(device_pty, capsys) -> None:
    """mpremote drained such a port forever before sending Ctrl-A."""
    def chatter(master: int, stop: threading.Event) -> None:
        while not stop.is_set():
            os.write(master, bytes(range(0x80, 0x100)))
            time.sleep(0.005)

    line = refused_with(capsys, device_pty, chatter, "deploy", "--board", "esp32-s3-eye")
    assert "an unknown device answers" in line and "bytes, neither a MicroPython REPL" in line
    assert "electeur devices" in line


def test_a_framed_reader_that_keeps_the_line_is_named(device_pty, capsys) -> None:
    """An older reader firmware (before RELEASE): it answers CONFIG_GET with HELLO and CONFIG and ignores the rest.
    (A current reader hands the line back on RELEASE: tests/devices/test_deploy.py.)"""
    def old_reader(master: int, stop: threading.Event) -> None:
        decoder = P.Decoder()
        while not stop.is_set():
            try:
                data = os.read(master, 4096)
            except OSError:
                return
            if any(m.type == P.CONFIG_GET for m in decoder.feed(data)):
                os.write(master, P.hello(1, "pico-arducam-ov2640", ["framed"], 5, "0.1.0")
                         + P.config(1, {"output": "framed"}, 6))

    line = refused_with(capsys, device_pty, old_reader, "selftest", "--board", "pico-arducam-ov2640")
    assert "a running e-lecteur reader is speaking the framed protocol there (board pico-arducam-ov2640" in line
    assert f"`electeur selftest --port {device_pty[0]}` checks it as it is" in line and "--erase" in line


def test_a_line_mode_reader_is_recognised_without_printing_its_codes(device_pty, capsys) -> None:
    """A device printing text lines and deaf to Ctrl-C (an older line-output reader: a current one stops on
    Ctrl-C and leaves the REPL to the host)."""
    def printer(master: int, stop: threading.Event) -> None:
        n = 0
        while not stop.is_set():
            os.write(master, f"diagnose me {n}\r\n".encode())
            n += 1
            time.sleep(0.3)

    line = refused_with(capsys, device_pty, printer, "selftest", "--board", "pico-arducam-ov2640")
    assert "printing lines of text" in line and "line output" in line and "re-flash MicroPython" in line
    assert "diagnose me" not in line


def test_a_board_reader_speaking_the_protocol_is_named_with_its_board() -> None:
    hello = P.hello(1, "esp32-s3-eye", ["framed", "decode:firmware.qr"], 7, "0.2.0")
    line = describe("/dev/ttyACM0", b"\x03 half a frame\x00" + hello + P.heartbeat(1, {"frames": 3}, 8), 3)
    assert "a running e-lecteur reader is speaking the framed protocol there (board esp32-s3-eye, HEARTBEAT, HELLO)" \
        in line
    assert "electeur flash ... --erase" in line
    virtual = describe("/dev/pts/3", P.hello(1, "sim", ["framed"]), 3)
    assert "the virtual reader (electeur sim)" in virtual and "it has no REPL" in virtual


def test_deploy_dry_run_needs_no_port(capsys) -> None:
    from host_bridge.cli import main
    assert main(["deploy", "--board", "pico-arducam-ov2640", "--dry-run"]) == 0
    assert "-> :main.py" in capsys.readouterr().out
    assert main(["deploy", "--board", "pico-arducam-ov2640"]) == 2
    assert "--port" in capsys.readouterr().err


def test_a_refused_deploy_hands_the_board_back_for_the_next_command(simboard, capsys) -> None:
    from host_bridge.cli import main
    board = simboard("--machine", "ESP32S3 module with ESP32S3")
    assert main(["deploy", "--board", "esp32-cam-ai-thinker", "--port", board.port]) == 2
    assert "wrong board" in capsys.readouterr().err
    t = time.monotonic()
    assert main(["deploy", "--board", "esp32-s3-eye", "--port", board.port, "--output", "line"]) == 0
    assert time.monotonic() - t < LIMIT_S and board.resets() == 1
