"""Firmware layers on CPython: board profiles, config fall-backs, dedupe, change detector, simulator modes."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import REPO
from reader_doubles import PAIRED, HostPort, SocketStream, code_frames, paired_keys
from firmware import board, config
from firmware.camera.image_files import PgmError, SimCamera, read_pgm
from firmware.dedupe import Dedupe
from firmware.presence import ChangeDetector


@pytest.mark.parametrize("path", sorted((REPO / "hardware" / "boards").glob("*.json")), ids=lambda p: p.stem)
def test_every_board_profile_loads_by_name(path) -> None:
    prof = board.load(path.stem)
    assert prof["name"] == path.stem
    assert board.can(prof, "hid") == bool(prof["usb"].get("hid") and "hid" in prof["outputs"])


def test_unknown_board_is_a_clear_error() -> None:
    with pytest.raises(board.BoardError, match="no board profile 'nope'"):
        board.load("nope")


def test_bad_config_falls_back_to_defaults_with_messages(tmp_path) -> None:
    p = tmp_path / "config.json"
    p.write_text("{not json", encoding="utf-8")
    cfg, errors = config.load(str(p))
    assert cfg == config.defaults() and "not valid JSON" in errors[0]
    p.write_text(json.dumps({"output": "telepathy", "dedupe_ms": 500, "reader_id": -3, "colour": 1}), encoding="utf-8")
    cfg, errors = config.load(str(p))
    assert cfg["dedupe_ms"] == 500 and cfg["output"] == "framed" and cfg["reader_id"] == 1
    assert len(errors) == 3 and any("output must be one of" in e for e in errors)


def test_config_save_and_load_round_trip(tmp_path) -> None:
    p = str(tmp_path / "config.json")
    cfg = config.defaults() | {"hid_layout": "qwerty"}
    config.save(cfg, p)
    assert config.load(p) == (cfg, [])


def test_dedupe_suppresses_a_code_held_in_view_until_it_leaves() -> None:
    d = Dedupe(delay_ms=1000)
    assert d.fresh(b"A", 0)
    assert not d.fresh(b"A", 500) and not d.fresh(b"A", 1400)     # still in view: timer refreshed
    assert d.fresh(b"B", 1500)
    assert d.fresh(b"A", 2500)                                     # out of view for 1.1 s


def test_change_detector_skips_a_still_scene_and_wakes_on_a_change() -> None:
    still = np.full((240, 320), 100, np.uint8)
    moved = still.copy()
    moved[60:180, 80:240] = 20
    det = ChangeDetector(threshold=8, max_idle=100)
    frame = lambda a: (0, 320, 240, bytearray(a.tobytes()), 0)    # noqa: E731
    assert det.changed(frame(still))
    assert not det.changed(frame(still))
    assert det.changed(frame(moved))


def test_pgm_errors_are_clear(tmp_path) -> None:
    p = tmp_path / "x.pgm"
    p.write_bytes(b"P5\n4 4\n255\n" + bytes(10))
    with pytest.raises(PgmError, match="truncated"):
        read_pgm(str(p))
    p.write_bytes(b"P2\n4 4\n255\n")
    with pytest.raises(PgmError, match="not a binary PGM"):
        read_pgm(str(p))


def test_sim_camera_shows_each_image_once_then_ends(tmp_path) -> None:
    for i in range(3):
        (tmp_path / f"{i}.pgm").write_bytes(b"P5\n2 1\n255\n" + bytes([i, i]))
    cam = SimCamera([str(tmp_path / f"{i}.pgm") for i in range(3)])
    assert [cam.capture()[3][0] for _ in range(3)] == [0, 1, 2]
    assert cam.capture() is None


TEXTS = ["PRESCRIPTION-2024-AZ19", "http://example.org/a?b=1&c=%40", "multi\nline", "QWERTY azerty {x}"]


def run_sim(tmp_path, mode: str) -> subprocess.CompletedProcess:
    from host_bridge.testbench.virtual_reader import command
    frames = code_frames(tmp_path, TEXTS)
    return subprocess.run(command("cpython", frames, mode, drain_ms=100), capture_output=True, timeout=60,
                          stdin=subprocess.DEVNULL, cwd=REPO)


def test_sim_line_and_hid_modes_print_one_read_per_line_refusing_line_breaks(tmp_path) -> None:
    expected = [t for t in TEXTS if "\n" not in t]
    for mode in ("line", "hid"):
        proc = run_sim(tmp_path, mode)
        assert proc.returncode == 0, proc.stderr.decode()
        assert proc.stdout.decode().splitlines() == expected, mode


def test_sim_refuses_line_mode_without_an_on_board_decoder(tmp_path) -> None:
    (tmp_path / "frames.txt").write_text("")
    proc = subprocess.run([sys.executable, "-m", "firmware.on_host", "--images", str(tmp_path), "--mode", "line",
                           "--decode", "host"], capture_output=True, timeout=60, cwd=REPO)
    assert proc.returncode == 2 and b"needs an on-board decoder" in proc.stderr


def test_config_get_and_set_over_the_protocol(tmp_path) -> None:
    from firmware import protocol as P
    from firmware.outputs.framed import FramedOutput
    port = HostPort()
    out = FramedOutput(port, config.defaults(), board.SIM, seq0=100)
    out.config_path = str(tmp_path / "config.json")
    port.inbox = P.config_get(1) + P.config_set(1, {"dedupe_ms": -5}) + P.config_set(1, {"dedupe_ms": 1500})
    out.poll()
    replies = P.Decoder().feed(port.written)
    assert [m.name for m in replies] == ["HELLO", "CONFIG", "ERROR", "CONFIG"]   # HELLO again: who answers
    assert replies[0].seq == 100 and replies[0].json()["board"] == board.SIM["name"]
    assert "dedupe_ms must be between" in replies[2].json()["message"]
    assert replies[3].json()["dedupe_ms"] == 1500
    assert config.load(out.config_path)[0]["dedupe_ms"] == 1500


def test_config_get_brings_a_heartbeat_with_the_last_decode_time() -> None:
    """A host that connects after boot asks CONFIG_GET and hears a heartbeat at once, even with heartbeats off."""
    import asyncio

    from firmware import protocol as P
    from firmware.outputs.framed import FramedOutput
    from firmware.scan import ScanLoop

    class Board:
        name = "test"

        def __init__(self) -> None:
            self.frames = [(0, 2, 2, b"\x00\x00\x00\x00", 0), (0, 2, 2, b"\xff\xff\xff\xff", 5)]

        def capture(self):
            return self.frames.pop(0) if self.frames else None

        def set_light(self, on: bool) -> None:
            pass

        def decode(self, frame) -> list:
            return []

    cfg = dict(config.defaults(), heartbeat_ms=0, decode="board", change_threshold=0)
    port = HostPort()
    out = FramedOutput(port, cfg, board.SIM, seq0=7)
    loop = ScanLoop(cfg, Board(), Board(), out, feedback=None)
    asyncio.run(loop.step())
    assert P.Decoder().feed(port.written) == []            # heartbeats off, nobody asked: silence
    port.inbox = P.config_get(1)
    asyncio.run(loop.step())
    replies = P.Decoder().feed(port.written)
    assert [m.name for m in replies] == ["HELLO", "CONFIG", "HEARTBEAT"]
    beat = replies[2].json()
    assert beat["decoded"] == 1 and isinstance(beat["decode_ms"], int) and beat["decode_ms"] >= 0
    assert "mem_free" not in beat                           # CPython has no gc.mem_free(): left out, not invented


def test_jpeg_frames_reach_the_host_engine(tmp_path) -> None:
    import io

    import segno
    from PIL import Image

    from firmware import protocol as P
    from host_bridge.decode.engines import get_engine
    from host_bridge.link.frames import frame_gray
    from host_bridge.link.reader_link import ReaderLink
    png = io.BytesIO()
    segno.make_qr("JPEG-STREAM-1").save(png, kind="png", scale=6)
    jpeg = io.BytesIO()
    Image.open(io.BytesIO(png.getvalue())).convert("L").save(jpeg, "JPEG", quality=85)
    got = []
    link = ReaderLink(HostPort(), lambda *a: None,
                      on_frame=lambda r, f: got.extend(s.data for s in get_engine().decode(frame_gray(f))))
    link.feed(b"".join(P.frame_messages(1, 5, P.JPEG, 0, 0, jpeg.getvalue())))
    assert got == [b"JPEG-STREAM-1"]


def test_tcp_output_delivers_reads_to_a_host_that_connects_later() -> None:
    import asyncio
    import socket

    from firmware.outputs.tcp import TcpOutput
    from host_bridge.link.reader_link import ReaderLink
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    out = TcpOutput(config.defaults() | {"output": "tcp", "tcp_port": free} | PAIRED, board.SIM, ip="127.0.0.1")
    got, hello = [], []

    async def scenario() -> None:
        await out.emit(b"READ-BEFORE-HOST", "qr", "test", 1)     # no host yet: waits in the outbox
        host = socket.create_connection(("127.0.0.1", free))
        host.setblocking(False)
        link = ReaderLink(SocketStream(host), lambda r, s, p, m: got.append(p), on_message=hello.append,
                          keys=paired_keys)
        for _ in range(400):
            out.poll()
            link.feed(SocketStream(host).read(65536))
            if got and not len(out.outbox):
                break
            await asyncio.sleep(0.01)
        host.close()
    out.outbox.retry_ms = 50
    asyncio.run(scenario())
    out.socket.srv.close()
    out.mdns.close()
    assert got == [b"READ-BEFORE-HOST"] and len(out.outbox) == 0
    assert hello and hello[0].json()["caps"] == ["framed", "tcp"]


def test_tcp_reader_is_found_by_zeroconf_on_the_host() -> None:
    import socket
    import threading
    import time

    from firmware.outputs.tcp import TcpOutput
    from host_bridge.bridge.devices import network_readers
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    out = TcpOutput(config.defaults() | {"output": "tcp", "tcp_port": free, "reader_id": 42}, board.SIM,
                    ip="127.0.0.1")
    assert out.mdns_error is None
    stop = threading.Event()

    def reader_loop() -> None:
        while not stop.is_set():
            out.poll()
            time.sleep(0.01)
    threading.Thread(target=reader_loop, daemon=True).start()
    try:
        readers = network_readers(timeout_s=3.0)   # the bridge's own discovery (`electeur devices`)
    finally:
        stop.set()
        out.mdns.close()
        out.socket.srv.close()
    found = [r for r in readers if r["name"] == "reader-42._electeur._tcp.local."]
    assert found and found[0]["port"] == f"tcp://127.0.0.1:{free}"
    assert found[0]["properties"]["board"] == "sim" and found[0]["properties"]["reader"] == "42"
    assert found[0]["properties"]["paired"] == "no"         # `electeur devices` shows which readers need pairing
