"""Streamed frames: host decoding in the bridge, one read per sighting, corrupt frames dropped with a warning."""

from __future__ import annotations

import io
import logging
from types import SimpleNamespace

import pytest
from PIL import Image

from firmware import protocol as P
from host_bridge.bridge.config import Config
from host_bridge.bridge.frames import Sightings, frame_gray
from host_bridge.bridge.redact import Redactor
from host_bridge.bridge.service import Bridge, ReaderPort
from host_bridge.decode.image import ImageError
from host_bridge.decode.synthetic import PRESCRIPTION, empty_scene, printed_code


def gray_frame(gray, frame_id: int, captured_ms: int):
    return SimpleNamespace(kind="gray8", width=gray.shape[1], height=gray.shape[0], data=gray.tobytes(),
                           frame_id=frame_id, captured_ms=captured_ms)


def jpeg_frame(gray, frame_id: int):
    buf = io.BytesIO()
    Image.fromarray(gray).save(buf, "JPEG", quality=85)
    return SimpleNamespace(kind="jpeg", width=gray.shape[1], height=gray.shape[0], data=buf.getvalue(),
                           frame_id=frame_id, captured_ms=frame_id * 66)


def test_sighting_timer_restarts_on_every_sighting():
    now = [0.0]
    s = Sightings(repeat_s=1.0, clock=lambda: now[0])
    seen = []
    for t in (0.0, 0.5, 1.2, 1.9, 3.5):  # held in view, then gone for 1.6 s
        now[0] = t
        seen.append(s.new("r1", b"code"))
    assert seen == [True, False, False, False, True]
    assert s.new("r2", b"code")  # another reader's sighting is its own read


def test_corrupt_or_mislabelled_frames_are_clear_errors():
    with pytest.raises(ImageError, match="corrupt JPEG"):
        frame_gray("jpeg", 320, 240, b"\xff\xd8not a jpeg")
    with pytest.raises(ImageError, match="expected 320x240"):
        frame_gray("gray8", 320, 240, b"\0" * 100)
    with pytest.raises(ImageError, match="header says 640x480"):
        frame_gray("jpeg", 640, 480, jpeg_frame(empty_scene((320, 240)), 1).data)


def test_code_held_in_view_for_many_frames_is_one_journaled_read(tmp_path, caplog):
    cfg = Config(journal=tmp_path / "j.sqlite", journal_key=tmp_path / "journal.key", epu=None)
    bridge = Bridge(cfg, "t" * 20, Redactor())
    port = ReaderPort("/dev/null", bridge)
    code = printed_code((640, 480), seed=3)
    acks = [port._on_frame(1, gray_frame(code, n, n * 66)) for n in range(10)]
    acks.append(port._on_frame(1, jpeg_frame(code, 10)))
    with caplog.at_level(logging.WARNING, logger="electeur.bridge"):
        acks.append(port._on_frame(1, SimpleNamespace(kind="jpeg", width=640, height=480, data=b"garbage",
                                                      frame_id=11, captured_ms=0)))
    acks.append(port._on_frame(1, gray_frame(empty_scene((640, 480)), 12, 12 * 66)))
    # what each frame's ACK tells the reader: one beep, then "still in view"; nothing said for the corrupt one
    assert acks == [P.FRAME_NEW] + [P.FRAME_SEEN] * 10 + [None, P.FRAME_NOTHING]
    lookups, _ = bridge.journal.after(None)
    assert [lk["text"] for lk in lookups] == [PRESCRIPTION] and lookups[0]["source"]["reader"] == "reader-1"
    assert "frame 11 dropped: corrupt JPEG" in caplog.text and port.reads == 1
    bridge.journal.close()
