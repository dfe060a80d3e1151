"""`electeur selftest --port PTY` against the virtual reader (`electeur sim --pty`: the real firmware on CPython,
camera frames from an image): the self-test asks for the config over the wire protocol and listens."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import segno

from host_bridge.cli import main


@pytest.fixture
def virtual_reader(tmp_path: Path):
    segno.make("selftest 1").save(tmp_path / "a.png", scale=6, border=4)
    proc = subprocess.Popen([sys.executable, "-m", "host_bridge.cli", "sim", "--images", str(tmp_path), "--pty",
                             "--loop", "--show-ms", "200"], stdout=subprocess.PIPE, text=True)
    yield proc.stdout.readline().strip()
    proc.kill()
    proc.wait()


def test_selftest_reports_what_the_virtual_reader_says(virtual_reader: str, capsys) -> None:
    code = main(["selftest", "--port", virtual_reader, "--listen", "3"])
    lines = {line.split()[1]: line for line in capsys.readouterr().out.splitlines() if line[:4] in ("PASS", "FAIL")}
    assert list(lines) == ["camera", "decoder", "output", "usb", "heap", "config"]
    assert lines["output"].startswith("PASS") and "mode framed" in lines["output"]
    assert lines["config"].startswith("PASS")
    # The firmware's heartbeat does not carry the free heap: the line says so instead of inventing a figure.
    assert lines["heap"].startswith("FAIL") and "not reported" in lines["heap"]
    assert code == 1


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
