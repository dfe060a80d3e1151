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
    code = main(["selftest", "--port", virtual_reader, "--listen", "3"])
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
