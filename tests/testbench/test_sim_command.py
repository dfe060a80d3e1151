"""`electeur sim --pty` opened like a device with pyserial, and `electeur replay --via-reader` rows."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import serial

from conftest import REPO
from firmware import protocol as P
from host_bridge.link.reader_link import Frame, ReaderLink

ELECTEUR = [sys.executable, "-m", "host_bridge.cli"]


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_sim_pty_is_a_device_the_host_opens_with_pyserial(corpus) -> None:
    proc = subprocess.Popen([*ELECTEUR, "sim", "--images", str(corpus / "zxing-qrcode" / "qrcode-3"), "--pty",
                             "--decode", "host", "--show-ms", "0"], stdout=subprocess.PIPE, cwd=REPO)
    try:
        path = proc.stdout.readline().decode().strip()    # type: ignore[union-attr]
        assert path.startswith("/dev/")
        frames: list[Frame] = []
        hello: list[P.Message] = []
        with serial.Serial(path, timeout=0.2) as port:
            link = ReaderLink(port, lambda *a: None, on_frame=lambda r, f: frames.append(f), on_message=hello.append)
            deadline = time.monotonic() + 60
            while len(frames) < 42 and time.monotonic() < deadline:
                link.poll()
        assert len(frames) == 42 and (frames[0].width, frames[0].height) == (240, 240)
        assert hello[0].name == "HELLO" and hello[0].json()["board"] == "sim"
        assert proc.poll() is None          # stays connected and idle after the last image
    finally:
        proc.terminate()
        proc.wait(10)


def test_replay_via_reader_gives_the_rows_of_direct_replay(corpus) -> None:
    d = str(corpus / "zxing-qrcode" / "qrcode-5")
    direct = subprocess.run([*ELECTEUR, "replay", "--json", "--min-rate", "0", d], capture_output=True, cwd=REPO)
    via = subprocess.run([*ELECTEUR, "replay", "--json", "--min-rate", "0", "--via-reader", "cpython", d],
                         capture_output=True, cwd=REPO)
    assert via.returncode == direct.returncode, via.stderr.decode()
    rows_d = [json.loads(line) for line in direct.stdout.splitlines()]
    rows_v = [json.loads(line) for line in via.stdout.splitlines()]
    assert len(rows_v) == len(rows_d) >= 19
    for a, b in zip(rows_d, rows_v):
        assert b["via"] == "cpython"
        assert (a["file"], a["ok"], a["symbols"]) == (b["file"], b["ok"], b["symbols"])


def test_sim_reports_a_missing_directory_in_one_line(tmp_path) -> None:
    proc = subprocess.run([*ELECTEUR, "sim", "--images", str(tmp_path / "none")], capture_output=True, cwd=REPO)
    assert proc.returncode == 2 and b"not a directory" in proc.stderr


def test_sim_pty_link_refuses_to_replace_a_file_and_needs_pty(tmp_path, corpus) -> None:
    images = str(corpus / "zxing-qrcode" / "qrcode-3")
    precious = tmp_path / "notes.txt"
    precious.write_text("keep me")
    proc = subprocess.run([*ELECTEUR, "sim", "--images", images, "--pty", "--pty-link", str(precious)],
                          capture_output=True, cwd=REPO, timeout=30)
    assert proc.returncode == 2 and b"not a symlink" in proc.stderr
    assert precious.read_text() == "keep me"
    proc = subprocess.run([*ELECTEUR, "sim", "--images", images, "--pty-link", str(tmp_path / "link")],
                          capture_output=True, cwd=REPO, timeout=30)
    assert proc.returncode == 2 and b"--pty-link needs --pty" in proc.stderr
    assert not (tmp_path / "link").exists()


def test_sim_flash_dir_holds_the_readers_config_and_is_checked(tmp_path) -> None:
    import segno
    images, flash = tmp_path / "images", tmp_path / "flash"
    images.mkdir()
    flash.mkdir()
    segno.make_qr("FLASH-CONFIG").save(str(images / "a.png"), scale=4, border=4)
    (flash / "config.json").write_text('{"line_prefix": "> "}')
    proc = subprocess.run([*ELECTEUR, "sim", "--images", str(images), "--mode", "line", "--show-ms", "0",
                           "--flash", str(flash)], capture_output=True, cwd=REPO, timeout=60)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.decode().splitlines() == ["> FLASH-CONFIG"]        # the board's saved config applies
    proc = subprocess.run([*ELECTEUR, "sim", "--images", str(images), "--flash", str(tmp_path / "none")],
                          capture_output=True, cwd=REPO, timeout=30)
    assert proc.returncode == 2 and b"not a directory" in proc.stderr
    proc = subprocess.run([*ELECTEUR, "sim", "--images", str(images), "--runtime", "micropython",
                           "--flash", str(flash)], capture_output=True, cwd=REPO, timeout=30)
    assert proc.returncode == 2 and b"--flash needs --runtime cpython" in proc.stderr
