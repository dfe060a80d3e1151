"""`electeur selftest --port PTY` against the virtual reader (`electeur sim --pty`: the real firmware on CPython,
camera frames from an image): the self-test asks for the config over the wire protocol and listens."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import segno

from host_bridge.cli import main


def _start_virtual_reader(tmp_path: Path, runtime: str):
    segno.make("selftest 1").save(tmp_path / "a.png", scale=6, border=4)
    # its own process group: the MicroPython runtime is a node child that must go with it
    proc = subprocess.Popen([sys.executable, "-m", "host_bridge.cli", "sim", "--images", str(tmp_path), "--pty",
                             "--loop", "--show-ms", "200", "--runtime", runtime], stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    return proc, proc.stdout.readline().strip()


def _stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()


@pytest.fixture
def virtual_reader(tmp_path: Path):
    proc, pty_path = _start_virtual_reader(tmp_path, "cpython")
    yield pty_path
    _stop(proc)


@pytest.fixture
def micropython_reader(tmp_path: Path):
    proc, pty_path = _start_virtual_reader(tmp_path, "micropython")
    yield pty_path
    _stop(proc)


def test_selftest_reports_what_the_virtual_reader_says(virtual_reader: str, capsys) -> None:
    main(["selftest", "--port", virtual_reader, "--listen", "3"])
    lines = {line.split()[1]: line for line in capsys.readouterr().out.splitlines() if line[:4] in ("PASS", "FAIL")}
    assert list(lines) == ["camera", "decoder", "output", "usb", "heap", "config"]
    assert lines["output"].startswith("PASS") and "mode framed" in lines["output"]
    assert lines["config"].startswith("PASS")
    # CPython has no gc.mem_free(): the heartbeat leaves the free heap out; the line says why, invents no figure,
    # and does not send the user to update a firmware that is not at fault.
    assert lines["heap"].startswith("PASS") and "virtual reader runs on CPython" in lines["heap"]
    assert "KB free" not in lines["heap"] and "update the firmware" not in lines["heap"]


@pytest.mark.micropython
@pytest.mark.slow
def test_selftest_passes_the_heap_line_from_the_micropython_readers_heartbeat(micropython_reader: str, capsys) -> None:
    """CONFIG_GET makes the reader resend HELLO and a heartbeat carrying gc.mem_free(): a host that connects after
    boot still learns the board and the free heap."""
    main(["selftest", "--port", micropython_reader, "--listen", "10"])   # the wasm reader boots slowly under load
    lines = {line.split()[1]: line for line in capsys.readouterr().out.splitlines() if line[:4] in ("PASS", "FAIL")}
    assert lines["heap"].startswith("PASS") and "KB free" in lines["heap"]
    assert lines["usb"].startswith("PASS") and lines["config"].startswith("PASS")


def test_a_port_with_no_reader_answering_is_a_clear_error(tmp_path: Path, capsys) -> None:
    import os
    import pty

    master, slave = pty.openpty()
    try:
        assert main(["selftest", "--port", os.ttyname(slave), "--listen", "0.5"]) == 2
    finally:
        os.close(master)
        os.close(slave)
    assert "no answer to CONFIG_GET" in capsys.readouterr().err


class BoardOnPty:
    """firmware.main as deployed on a board profile (firmware/on_host.py --board), behind a pluggable pty."""

    def __init__(self, tmp_path: Path, board: str = "pico-arducam-ov2640") -> None:
        import threading

        from host_bridge.testbench.pty_relay import PtyRelay
        self.proc = subprocess.Popen([sys.executable, "-m", "firmware.on_host", "--board", board, "--flash", str(tmp_path)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.link = tmp_path / "ttyREADER"
        self.relay = PtyRelay(self.proc, self.link)
        self.relay.plug()
        threading.Thread(target=self.relay.run, daemon=True).start()

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


def selftest_lines(port: Path, capsys, listen: str = "2") -> tuple[int, dict[str, str], str]:
    code = main(["selftest", "--port", str(port), "--listen", listen])
    out = capsys.readouterr().out
    return code, {line.split()[1]: line for line in out.splitlines() if line[:4] in ("PASS", "FAIL")}, out


def test_selftest_says_the_camera_is_missing_on_a_reader_without_one(tmp_path: Path, capsys) -> None:
    """Nothing on the Pico's SPI bus: the reader keeps its link and says why; the camera line FAILs with it."""
    board = BoardOnPty(tmp_path)
    try:
        code, lines, _ = selftest_lines(board.link, capsys)
    finally:
        board.stop()
    assert code == 1
    assert lines["camera"].startswith("FAIL") and "ArduCAM does not answer on SPI" in lines["camera"]
    assert lines["output"].startswith("PASS") and lines["config"].startswith("PASS")


def test_selftest_reports_the_camera_in_use_not_the_profiles(tmp_path: Path, capsys) -> None:
    import json
    segno.make("selftest 1").save(tmp_path / "a.png", scale=6, border=4)
    from host_bridge.testbench.virtual_reader import write_frames
    (tmp_path / "frames").mkdir()
    write_frames([tmp_path / "a.png"], tmp_path / "frames")
    (tmp_path / "config.json").write_text(json.dumps({"camera": "sim", "heartbeat_ms": 300}))
    board = BoardOnPty(tmp_path)
    try:
        _, lines, _ = selftest_lines(board.link, capsys)
    finally:
        board.stop()
    assert "simulated camera (frames from files) at QVGA" in lines["camera"]   # its fps is CPython decoding
    assert "OV2640" not in lines["camera"]


def test_selftest_listens_again_when_the_board_resets_under_it(tmp_path: Path, capsys) -> None:
    """The port vanishing mid-listen (a reset, USB re-enumerating) is reconnected, not a SerialException."""
    import threading
    board = BoardOnPty(tmp_path)
    threading.Timer(1.0, board.relay.replug.set).start()
    try:
        code, lines, out = selftest_lines(board.link, capsys, listen="3")
    finally:
        board.stop()
    assert "went away 1 time(s)" in out and lines["output"].startswith("PASS")
