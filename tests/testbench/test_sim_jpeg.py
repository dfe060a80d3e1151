"""JPEG frames from the virtual reader: the simulated camera streams JPEG bytes as ESP32/ArduCAM cameras do,
the host decodes them, and the reads are those of gray8 streaming."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO
from firmware.camera.image_files import PgmError, SimCamera, jpeg_size
from host_bridge.decode.files import iter_images
from host_bridge.testbench import virtual_reader as vr
from host_bridge.link.reader_link import Frame, ReaderLink

ELECTEUR = [sys.executable, "-m", "host_bridge.cli"]


def replay_rows(d: Path, *extra: str) -> list[dict]:
    proc = subprocess.run([*ELECTEUR, "replay", "--json", "--min-rate", "0", *extra, str(d)], capture_output=True,
                          cwd=REPO, timeout=600)
    assert proc.returncode in (0, 1), proc.stderr.decode()
    return [json.loads(line) for line in proc.stdout.splitlines()]


def reads(rows: list[dict]) -> list[tuple[str, list[str]]]:
    return [(r["file"], [s["bytes_b64"] for s in r.get("symbols", [])]) for r in rows]


@pytest.mark.parametrize("runtime", ["cpython", pytest.param("micropython", marks=pytest.mark.micropython)])
def test_replay_via_reader_jpeg_reads_what_gray_streaming_reads(corpus, runtime: str) -> None:
    d = corpus / "zxing-qrcode" / "qrcode-3"
    gray = replay_rows(d, "--via-reader", runtime)
    jpeg = replay_rows(d, "--via-reader", runtime, "--frame-format", "jpeg")
    assert len(jpeg) == len(gray) >= 20
    assert reads(jpeg) == reads(gray)
    assert sum(bool(s) for _, s in reads(jpeg)) >= 20
    assert all(r["via"] == runtime and "error" not in r for r in jpeg)


def test_streamed_frames_are_jpeg_bytes_with_their_size(corpus, tmp_path: Path) -> None:
    images = list(iter_images([corpus / "zxing-qrcode" / "qrcode-3"]))[:3]
    assert vr.write_frames(images, tmp_path, "jpeg") == {}
    frames: list[Frame] = []
    cmd = vr.command("cpython", tmp_path, "framed", decode="host", drain_ms=5000, frame_format="jpeg")
    with subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        ReaderLink(vr.PipeStream(proc), lambda *a: None, on_frame=lambda r, f: frames.append(f)).run()
        proc.stdin.close()              # type: ignore[union-attr]
        proc.wait(30)
    assert [f.kind for f in frames] == ["jpeg"] * 3
    for f, name in zip(frames, sorted(tmp_path.glob("*.jpg"))):
        data = name.read_bytes()
        assert bytes(f.data) == data and (f.width, f.height) == jpeg_size(data)


def test_a_file_that_is_not_a_jpeg_is_a_clear_camera_error(tmp_path: Path) -> None:
    for name, data, says in [("a.jpg", b"P5\n1 1\n255\n\x00", "not a JPEG"),
                             ("b.jpg", b"\xff\xd8\xff\xe0\x00\x10" + b"\x00" * 14, "without a frame header"),
                             ("c.jpg", b"\xff\xd8" + b"\x00" * 20, "corrupt JPEG")]:
        (tmp_path / name).write_bytes(data)
        with pytest.raises(PgmError, match=says):
            SimCamera([str(tmp_path / name)]).capture()


def test_jpeg_frames_need_streaming_to_the_host(corpus, tmp_path: Path) -> None:
    d = str(corpus / "zxing-qrcode" / "qrcode-3")
    proc = subprocess.run([*ELECTEUR, "sim", "--images", d, "--frame-format", "jpeg"], capture_output=True, cwd=REPO)
    assert proc.returncode == 2 and b"needs --mode framed --decode host" in proc.stderr
    proc = subprocess.run([*ELECTEUR, "replay", "--frame-format", "jpeg", d], capture_output=True, cwd=REPO)
    assert proc.returncode == 2 and b"--frame-format needs --via-reader" in proc.stderr
