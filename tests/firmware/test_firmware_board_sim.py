"""The reader on the board-faithful simulation (firmware/simboard.py on CPython; the interrupt character in
tools/micropython/run.mjs under MicroPython): the defects of a first run on a microcontroller (issue 12) — a
host byte 0x03 raising KeyboardInterrupt, a watchdog starving while the reader waits, a missing camera killing
the reader, seqs repeating with os.urandom — each caught here, and the way a host takes the serial line back."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conftest import REPO
from firmware import protocol as P
from host_bridge.testbench.virtual_reader import RUNNER, command
from reader_doubles import code_frames

FIRMWARE = REPO / "firmware"


class Board:
    """A simulated board on pipes: the host's end of its serial line, with the messages it wrote."""

    def __init__(self, argv: list[str]) -> None:
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     cwd=REPO)
        self.messages: queue.Queue = queue.Queue()
        self.raw = bytearray()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        dec = P.Decoder()
        while True:
            data = self.proc.stdout.read1(4096)
            if not data:
                self.messages.put(None)
                return
            self.raw += data
            for msg in dec.feed(data):
                self.messages.put(msg)

    def send(self, data: bytes) -> None:
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def next(self, *names: str, timeout: float = 20) -> P.Message | None:
        """The next message of one of `names` (others skipped); None when the reader's output ended."""
        deadline = time.monotonic() + timeout
        while True:
            msg = self.messages.get(timeout=max(0.01, deadline - time.monotonic()))
            if msg is None or msg.name in names:
                return msg

    def stop(self, wait_s: float = 20) -> str:
        """Close the line (a reader started with --idle then ends; main() on a board never does: `wait_s` 0);
        the reader's stderr."""
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=wait_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        return self.proc.stderr.read().decode()


def cpython_board(frames: Path, flash: Path | None = None, *extra: str, mode: str = "framed") -> Board:
    return Board(command("cpython", frames, mode, idle=True, flash=flash) + list(extra))


def micropython_board(frames: Path, *extra: str) -> Board:
    return Board(command("micropython", frames, "framed", idle=True) + list(extra))


def wait_for(board: Board, text: bytes, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while text not in board.raw and time.monotonic() < deadline:
        time.sleep(0.05)


def deliver_all(board: Board, n: int) -> list[bytes]:
    """Act as the host: ACK each READ as it comes; the payloads, in order."""
    got: list[bytes] = []
    while len(got) < n:
        msg = board.next("READ")
        assert msg is not None, "the reader died"
        payload = P.parse_read(msg)[0]
        if payload not in got:
            got.append(payload)
        board.send(P.ack(msg.reader, msg.seq))
    return got


TEXTS = ["READ-1", "READ-2", "READ-3"]


def test_the_hosts_acks_do_not_kill_a_framed_reader(tmp_path: Path) -> None:
    """Every host message starts with 0x03 (Ctrl-C): the reader turns the interrupt character off."""
    board = cpython_board(code_frames(tmp_path, TEXTS), tmp_path)
    assert deliver_all(board, 3) == [t.encode() for t in TEXTS]
    board.send(P.config_get(1))
    assert board.next("CONFIG") is not None     # still answering after the ACKs
    err = board.stop()
    assert "KeyboardInterrupt" not in err and "reset" not in err


@pytest.mark.micropython
def test_the_hosts_acks_do_not_kill_a_framed_reader_under_micropython(tmp_path: Path) -> None:
    board = micropython_board(code_frames(tmp_path, TEXTS[:2]))
    assert deliver_all(board, 2) == [t.encode() for t in TEXTS[:2]]
    board.send(P.config_get(1))
    assert board.next("CONFIG", timeout=60) is not None
    assert "KeyboardInterrupt" not in board.stop()


def test_the_simulated_line_raises_keyboard_interrupt_on_ctrl_c_unless_turned_off() -> None:
    """As the rp2 and esp32 ports: the byte is consumed, what came before it dropped, what follows kept."""
    from firmware.simboard import Micropython
    board = Micropython()
    rest: list[bytes] = []
    with pytest.raises(KeyboardInterrupt):     # raised in the main thread while the line's thread goes on
        threading.Thread(target=lambda: rest.append(board.serial_rx(b"ab\x03cd"))).start()
        time.sleep(5)
    assert rest == [b"cd"]
    board.kbd_intr(-1)
    assert board.serial_rx(b"ab\x03cd") == b"ab\x03cd"


def test_ctrl_c_on_a_line_reader_resets_it_into_a_repl_without_watchdog(tmp_path: Path) -> None:
    """line/hid keep Ctrl-C (mpremote's way in): the reader cannot stop its watchdog, so it resets into a boot
    that stays at the REPL once; the boot after starts the reader again."""
    board = cpython_board(code_frames(tmp_path, TEXTS), tmp_path, "--loop", mode="line")
    wait_for(board, b"READ-1\r\n")            # the reader runs
    board.send(b"\x03")
    wait_for(board, b"REPL until the next reset")
    err = board.stop()
    assert "machine.reset()" in err and b"REPL until the next reset" in board.raw
    assert not (tmp_path / "released").exists()     # once: the next boot is the reader's


def test_release_hands_the_serial_line_back_through_a_reset(tmp_path: Path) -> None:
    board = cpython_board(code_frames(tmp_path, TEXTS), tmp_path, "--loop")
    assert board.next("HELLO") is not None
    board.send(P.release(1))
    assert board.next("RELEASE") is not None     # the answer the host waits for
    wait_for(board, b"REPL until the next reset")
    err = board.stop()
    assert b"REPL until the next reset" in board.raw and "machine.reset()" in err


def test_the_watchdog_is_fed_while_the_reader_waits_for_acks(tmp_path: Path) -> None:
    """drain() at the end of the frames waits for the host's ACK: a starving watchdog reset the board there."""
    board = cpython_board(code_frames(tmp_path, TEXTS[:1]), tmp_path, "--drain-ms", "1500", "--wdt-scale", "0.05")
    assert board.next("READ") is not None       # never acknowledged: the reader waits, then idles
    time.sleep(2.5)                             # drain (1.5 s) and idle, under a 400 ms watchdog
    err = board.stop()
    assert "watchdog" not in err, err


def test_the_simulated_watchdog_resets_the_board_losing_ram_and_keeping_flash(tmp_path: Path) -> None:
    flash = tmp_path / "boots"
    script = ("import sys, time\nfrom firmware import simboard\nsimboard.install()\nimport machine\n"
              f"p = {str(flash)!r}\n"
              "try:\n    n = int(open(p).read())\nexcept OSError:\n    n = 0\n"
              "open(p, 'w').write(str(n + 1))\nprint('boot', n, flush=True)\n"
              "if n == 0:\n    machine.WDT(timeout=200)\n    time.sleep(30)\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30, cwd=REPO)
    assert proc.stdout.split("\n")[:2] == ["boot 0", "boot 1"]
    assert "watchdog not fed for 200 ms: reset" in proc.stderr


def test_a_board_without_its_camera_says_so_and_keeps_its_link(tmp_path: Path) -> None:
    """The Pico profile with nothing on the SPI bus: HELLO, ERROR camera, and ACKs/CONFIG_GET still answered."""
    board = Board([sys.executable, "-m", "firmware.on_host", "--board", "pico-arducam-ov2640", "--flash", str(tmp_path)])
    hello = board.next("HELLO")
    assert hello is not None and "camera:none" in hello.json()["caps"]
    error = board.next("ERROR").json()
    assert error["code"] == "camera" and "ArduCAM does not answer on SPI" in error["message"]
    board.send(P.ack(1, 5) + P.config_get(1))
    assert board.next("CONFIG") is not None
    beat = board.next("HEARTBEAT").json()
    assert "ArduCAM does not answer" in beat["camera_error"]
    assert board.proc.poll() is None
    assert "Traceback" not in board.stop(wait_s=0)


def test_the_simulated_camera_is_chosen_by_configuration_on_a_board(tmp_path: Path) -> None:
    frames = code_frames(tmp_path, TEXTS[:1])
    flash = tmp_path / "flash"
    flash.mkdir()
    (flash / "frames").symlink_to(frames)
    (flash / "config.json").write_text(json.dumps({"camera": "sim", "decode": "board"}))
    board = Board([sys.executable, "-m", "firmware.on_host", "--board", "pico-arducam-ov2640", "--flash", str(flash)])
    assert "camera:sim" in board.next("HELLO").json()["caps"]
    assert deliver_all(board, 1) == [b"READ-1"]
    board.stop(wait_s=0)


def test_seqs_differ_across_boots_even_when_urandom_repeats(tmp_path: Path) -> None:
    frames = code_frames(tmp_path, TEXTS[:1])
    seqs = []
    for _ in range(2):
        board = cpython_board(frames, tmp_path, "--urandom", "repeat")
        seqs.append(board.next("HELLO").seq)
        deliver_all(board, 1)
        board.stop()
    assert seqs[0] != seqs[1]


@pytest.mark.micropython
@pytest.mark.parametrize("intr, says", [(3, b"KeyboardInterrupt"), (-1, b"got b'a\\x03b'")])
def test_the_micropython_runners_serial_line_interrupts_on_ctrl_c_as_a_board(tmp_path: Path, intr: int,
                                                                            says: bytes) -> None:
    """run.mjs's stdin (hostio) raises KeyboardInterrupt on 0x03 unless micropython.kbd_intr(-1), as a board's."""
    script = tmp_path / "s.py"
    script.write_text("import asyncio, hostio, micropython\n"
                      "async def main():\n"
                      f"    micropython.kbd_intr({intr})\n"
                      "    got = b''\n"
                      "    while not hostio.eof():\n"
                      "        got += hostio.read()\n"
                      "        await asyncio.sleep_ms(5)\n"
                      "    print('got', got)\n"
                      "asyncio.run(main())\n")
    proc = subprocess.run(["node", str(RUNNER), str(script)], input=b"a\x03b", capture_output=True, timeout=60)
    assert says in proc.stdout + proc.stderr


def test_a_reset_loses_ram_but_the_outbox_on_flash_is_resent_with_its_seq(tmp_path: Path) -> None:
    frames = code_frames(tmp_path, TEXTS[:1])
    board = cpython_board(frames, tmp_path, "--loop")
    first = board.next("READ")                   # never acknowledged
    board.send(P.release(1))                     # the reader resets (into the REPL, once)
    wait_for(board, b"REPL until the next reset")
    board.stop()
    board = cpython_board(frames, tmp_path)      # the next boot: the reader again
    again = board.next("READ")
    board.stop()
    assert (again.seq, P.parse_read(again)[0]) == (first.seq, b"READ-1") and again.flags & P.FLAG_RETRANSMIT


@pytest.mark.micropython
def test_release_under_micropython_without_a_watchdog_returns_to_the_repl(tmp_path: Path) -> None:
    board = micropython_board(code_frames(tmp_path, TEXTS[:1]), "--loop")
    assert board.next("HELLO", timeout=60) is not None
    board.send(P.release(1))
    assert board.next("RELEASE", timeout=60) is not None
    assert board.next("READ", "HEARTBEAT", timeout=60) is None     # the reader stopped: its output ended
    assert board.stop() == "" and board.proc.returncode == 0


@pytest.mark.micropython
def test_the_picos_heap_takes_a_qvga_frame_and_not_a_vga_one(tmp_path: Path) -> None:
    """run.mjs --strict-heap: a heap that has to grow past the board's is a MemoryError, as on the board."""
    import numpy as np

    from host_bridge.testbench.virtual_reader import BOARD_HEAP
    for name, (w, h), fits in (("qvga", (320, 240), True), ("vga", (640, 480), False)):
        frames = tmp_path / name
        frames.mkdir()
        (frames / "f.pgm").write_bytes(b"P5\n%d %d\n255\n" % (w, h) + np.full((h, w), 200, np.uint8).tobytes())
        (frames / "frames.txt").write_text("f.pgm\n")
        cmd = command("micropython", frames, "framed", decode="host", drain_ms=100)
        cmd.insert(cmd.index("--heap"), "--strict-heap")
        assert cmd[cmd.index("--heap") + 1] == BOARD_HEAP
        proc = subprocess.run(cmd, capture_output=True, timeout=120, cwd=REPO)
        assert (proc.returncode == 0) == fits, proc.stderr.decode()[-500:]
        assert (b"MemoryError" in proc.stderr) != fits
