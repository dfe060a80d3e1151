"""Streaming mode (no on-board decoder): the host's ACK of each frame says what it read, so the real virtual
reader beeps once per presented code and steps its light profiles until a glaring phone screen reads.
An old host (ACK with an empty body) still works: no beep, the light stays, as before."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO
from test_firmware_light import DARK_GLARE, qr_frame, write_pgm
from tests.helpers.micropython import MP_RUNTIMES

from firmware import protocol as P
from host_bridge.decode.engines import get_engine
from host_bridge.testbench import virtual_reader as vr
from host_bridge.link.frames import FrameReads, frame_gray
from host_bridge.link.reader_link import Frame, ReaderLink

RUNTIMES = ["cpython", *MP_RUNTIMES]
GLARE_AT_25 = 255 - (255 - DARK_GLARE) * 4     # the glaring modules once the light stepped to LED off / 25 %


def frames_dir(tmp_path: Path, frames: list[tuple[str, np.ndarray]]) -> Path:
    """One PGM per frame (shown once each: `--show-ms 0`), in order."""
    d = tmp_path / "frames"
    d.mkdir()
    names = []
    for i, (name, gray) in enumerate(frames):
        names.append(f"{i:02d}-{name}.pgm")
        write_pgm(d / names[-1], gray)
    (d / "frames.txt").write_text("\n".join(names) + "\n")
    return d


class Host:
    """The host end: ReaderLink + FrameReads (or an old host's callback that returns nothing), recording per
    frame its darkest pixel (the light profile it was captured under) and what its ACK said."""

    def __init__(self, old: bool = False) -> None:
        self.reads: list[bytes] = []
        self.darkest: list[int] = []
        self.acks: list[int | None] = []
        self.frame_reads = FrameReads(get_engine(), lambda r, s, p, m: self.reads.append(p))
        self.old = old

    def on_frame(self, reader: int, frame: Frame) -> int | None:
        self.darkest.append(int(frame_gray(frame).min()))
        got = self.frame_reads(reader, frame)
        self.acks.append(None if self.old else got)
        return self.acks[-1]


def stream(frames: Path, host: Host, runtime: str = "cpython") -> list[str]:
    """Run the virtual reader in streaming mode through `host` to its end; the feedback patterns it played."""
    cmd = vr.command(runtime, frames, "framed", decode="host", drain_ms=5000) + ["--trace-feedback"]
    with subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO) as proc:
        try:
            ReaderLink(vr.PipeStream(proc), lambda *a: None, on_frame=host.on_frame).run()
            proc.stdin.close()  # type: ignore[union-attr]
            err = proc.stderr.read().decode("utf-8", "replace")  # type: ignore[union-attr]
            assert proc.wait(60) == 0, err
        finally:
            if proc.poll() is None:
                proc.kill()
    return [line for line in err.splitlines() if line.startswith("feedback ")]


def paper(text: str) -> np.ndarray:
    return qr_frame(text, 0)


def blank() -> np.ndarray:
    return np.full((240, 320), 128, np.uint8)


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_one_beep_per_presented_code_none_for_blank_frames_or_a_code_held_in_view(tmp_path, runtime: str) -> None:
    frames = [("a", paper("PAPER-A"))] * 3 + [("blank", blank())] * 2 + [("b", paper("PAPER-B"))] * 3
    host = Host()
    feedback = stream(frames_dir(tmp_path, frames), host, runtime)
    assert host.reads == [b"PAPER-A", b"PAPER-B"]
    # (a blank frame's "nothing" steps the light, so the reader drops the next frame if it was captured before)
    assert host.acks[:3] == [P.FRAME_NEW, P.FRAME_SEEN, P.FRAME_SEEN] and P.FRAME_NOTHING in host.acks
    assert host.acks.count(P.FRAME_NEW) == 2 and host.acks[-1] == P.FRAME_SEEN
    assert feedback == ["feedback good", "feedback good"]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_a_glaring_phone_code_reads_on_the_host_once_the_reader_stepped_its_light_and_the_light_stays(
        tmp_path, runtime: str) -> None:
    frames = [("phone-a", qr_frame("PHONE-A", DARK_GLARE))] * 3 + [("phone-b", qr_frame("PHONE-B-0123", DARK_GLARE))] * 2
    host = Host()
    feedback = stream(frames_dir(tmp_path, frames), host, runtime)
    # the first frame glares (LED on, automatic exposure) and reads nothing: its ACK steps the reader to
    # LED off / 25 % (a frame captured before that is not sent), which the host reads; the reader stays
    # there for PHONE-B, read on its first frame
    assert host.darkest[0] == DARK_GLARE and set(host.darkest[1:]) == {GLARE_AT_25}
    assert host.acks[:2] == [P.FRAME_NOTHING, P.FRAME_NEW] and host.acks[-2:] == [P.FRAME_NEW, P.FRAME_SEEN]
    assert host.acks.count(P.FRAME_NEW) == 2
    assert host.reads == [b"PHONE-A", b"PHONE-B-0123"]
    assert feedback == ["feedback good", "feedback good"]


def test_an_old_host_acking_frames_with_an_empty_body_gets_frames_as_before_no_beep_and_a_steady_light(tmp_path) -> None:
    frames = [("paper", paper("PAPER-OLD"))] + [("phone", qr_frame("PHONE-A", DARK_GLARE))] * 3
    host = Host(old=True)
    feedback = stream(frames_dir(tmp_path, frames), host)
    assert host.reads == [b"PAPER-OLD"]                 # the host still reads what it can
    assert host.darkest == [0] + [DARK_GLARE] * 3        # the light never stepped: the phone code never read
    assert feedback == []


def test_the_frame_ack_body_round_trips_and_unknown_bodies_mean_not_said() -> None:
    def ack_body(wire: bytes) -> int | None:
        (msg,) = P.Decoder().feed(wire)
        return P.parse_frame_ack(msg)

    assert [ack_body(P.ack(3, 8, got)) for got in (P.FRAME_NOTHING, P.FRAME_NEW, P.FRAME_SEEN)] == [0, 1, 2]
    assert ack_body(P.ack(3, 8)) is None                             # an old host, and every READ's ACK
    assert ack_body(P.encode(P.ACK, 8, b"\x07", 3)) is None           # a future value this reader does not know
    assert ack_body(P.encode(P.ACK, 8, b"\x01\x00", 3)) is None


def test_a_read_ack_stays_empty_and_a_frame_dropped_on_the_line_is_acked_without_a_verdict() -> None:
    sent: list[bytes] = []

    class Wire:
        def write(self, data: bytes) -> None:
            sent.append(bytes(data))

    verdicts: list[Frame] = []
    link = ReaderLink(Wire(), lambda *a: None, on_frame=lambda r, f: verdicts.append(f) or P.FRAME_NEW)
    link.feed(P.read(1, 5, b"CODE"))
    link.feed(b"".join(P.frame_messages(1, 6, P.GRAY8, 2, 2, b"\x00\x10\x20\x30")))
    start, chunk, _ = P.frame_messages(1, 7, P.GRAY8, 2, 2, b"\x00\x10\x20\x30")
    link.feed(start + chunk + P.encode(P.FRAME_END, 7, b"\0\0\0\0", 1))   # CRC mismatch: dropped
    acks = P.Decoder().feed(b"".join(sent))
    assert [(m.seq, m.payload) for m in acks] == [(5, b""), (6, b"\x01"), (7, b"")]
    assert len(verdicts) == 1
