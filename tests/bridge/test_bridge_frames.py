"""Streamed frames: host decoding in the bridge, one read per sighting, corrupt frames dropped with a warning."""

from __future__ import annotations

import io
import logging

import pytest
from PIL import Image

from firmware import protocol as P
from host_bridge.bridge.config import Config
from host_bridge.bridge.redact import Redactor
from host_bridge.bridge.service import Bridge, ReaderPort
from host_bridge.decode.engines import get_engine
from host_bridge.decode.image import ImageError
from host_bridge.testbench.synthetic_frames import PRESCRIPTION, empty_scene, printed_code
from host_bridge.link.frames import FrameReads, frame_gray
from host_bridge.link.reader_link import Frame


def gray_frame(gray, frame_id: int, captured_ms: int) -> Frame:
    return Frame(frame_id, "gray8", gray.shape[1], gray.shape[0], gray.tobytes(), captured_ms)


def jpeg_frame(gray, frame_id: int, size: tuple[int, int] | None = None) -> Frame:
    buf = io.BytesIO()
    Image.fromarray(gray).save(buf, "JPEG", quality=85)
    width, height = size or (gray.shape[1], gray.shape[0])
    return Frame(frame_id, "jpeg", width, height, buf.getvalue(), frame_id * 66)


def test_a_code_held_in_view_is_read_again_only_after_dedupe_ms_out_of_view_on_the_readers_clock():
    got = []
    reads = FrameReads(get_engine(), lambda r, s, p, m: got.append((r, s, m["captured_ms"])), dedupe_ms=1000)
    code, empty = printed_code((320, 240), seed=3), empty_scene((320, 240))
    # held 0-1.9 s (the timer restarts on every sighting), gone, back at 2.5 s (0.6 s out of view: same
    # presentation), gone 1.2 s, back at 4.9 s: a new read; another reader's sighting is its own read
    shown = [(0, code), (500, code), (1200, code), (1900, code), (2200, empty), (2500, code), (3700, empty),
             (4900, code)]
    acks = [reads(1, gray_frame(gray, n, t)) for n, (t, gray) in enumerate(shown)]
    acks.append(reads(2, gray_frame(code, 8, 4900)))
    assert got == [(1, 0, 0), (1, 7, 4900), (2, 8, 4900)]
    assert acks == [P.FRAME_NEW, P.FRAME_SEEN, P.FRAME_SEEN, P.FRAME_SEEN, P.FRAME_NOTHING, P.FRAME_SEEN,
                    P.FRAME_NOTHING, P.FRAME_NEW, P.FRAME_NEW]


def test_a_reader_that_rebooted_reads_the_code_in_view_again():
    """Its capture clock starts over: a time before the last sighting is not "still in view"."""
    got = []
    reads = FrameReads(get_engine(), lambda r, s, p, m: got.append(m["captured_ms"]))
    code = printed_code((320, 240), seed=3)
    for n, t in enumerate((500_000, 500_066, 120, 186)):           # rebooted between the 2nd and 3rd frame
        reads(1, gray_frame(code, n, t))
    assert got == [500_000, 120]


def test_corrupt_or_mislabelled_frames_are_clear_errors():
    with pytest.raises(ImageError, match="corrupt JPEG"):
        frame_gray(Frame(1, "jpeg", 320, 240, b"\xff\xd8not a jpeg", 0))
    with pytest.raises(ImageError, match="expected 320x240"):
        frame_gray(Frame(1, "gray8", 320, 240, b"\0" * 100, 0))
    with pytest.raises(ImageError, match="header says 640x480"):
        frame_gray(jpeg_frame(empty_scene((320, 240)), 1, size=(640, 480)))


def test_code_held_in_view_for_many_frames_is_one_journaled_read(tmp_path, caplog):
    cfg = Config(journal=tmp_path / "j.sqlite", journal_key=tmp_path / "journal.key", epu=None)
    bridge = Bridge(cfg, "t" * 20, Redactor())
    port = ReaderPort("/dev/null", bridge)
    code = printed_code((640, 480), seed=3)
    acks = [port._on_frame(1, gray_frame(code, n, n * 66)) for n in range(10)]
    acks.append(port._on_frame(1, jpeg_frame(code, 10)))
    with caplog.at_level(logging.WARNING, logger="electeur.frames"):
        acks.append(port._on_frame(1, Frame(11, "jpeg", 640, 480, b"garbage", 0)))
    acks.append(port._on_frame(1, gray_frame(empty_scene((640, 480)), 12, 12 * 66)))
    # what each frame's ACK tells the reader: one beep, then "still in view"; nothing said for the corrupt one
    assert acks == [P.FRAME_NEW] + [P.FRAME_SEEN] * 10 + [None, P.FRAME_NOTHING]
    lookups, _ = bridge.journal.after(None)
    assert [lk["text"] for lk in lookups] == [PRESCRIPTION] and lookups[0]["source"]["reader"] == "reader-1"
    assert "frame 11 dropped: corrupt JPEG" in caplog.text and port.reads == 1
    bridge.journal.close()
