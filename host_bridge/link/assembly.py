"""Streamed frames put back together within bounds, because what a reader announces is untrusted input.

A FRAME_START is 28 bytes on the wire and announces up to 4 GB: trusted, it let one message allocate
gigabytes. Here a frame may be at most the largest one a board profile allows (`hardware/boards/*.json`:
the largest standard frame size within the sensor's `sensor_px`, one byte per pixel, gray or JPEG; the
board named in the reader's HELLO, else the largest of all profiles); a reader id has at most
`PER_READER` frames in assembly and a link `PER_LINK`; memory grows only as chunks arrive, within a
per-link byte budget; a frame still unfinished `DEADLINE_S` after its start is dropped (no reader waits
longer than `frame_ack_ms`, at most 60 s, for its ACK). Whatever a rogue peer sends, a link holds at most
`BUDGET` bytes of frames, and each message costs constant work, so a valid READ behind a flood is ACKed promptly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from firmware import board as firmware_board
from firmware import protocol as P
from firmware.camera import SIZES

BOARDS = Path(__file__).resolve().parents[2] / "hardware" / "boards"

PER_READER = 2          # a reader streams one frame at a time (the next after the ACK): 2 tolerates a lost END
PER_LINK = 8            # a TCP hub may carry several readers
BUDGET = 4 * 1024 * 1024  # bytes of frames in assembly per link: two of the largest frame any board sends
DEADLINE_S = 60.0
JPEG_BYTES_PER_PIXEL = 1  # camera drivers size a JPEG buffer at width*height/5; 1 byte/pixel is 5x that


def profile_limit(profile: dict[str, Any]) -> int:
    """Largest frame in bytes a board profile allows: the largest standard frame size (what `frame_size` can be
    set to) within its sensor (`sensor_px`; none given: all of them), one byte per pixel for gray and for JPEG."""
    sensor = profile["camera"].get("sensor_px") or (1 << 16, 1 << 16)
    return max((w * h for w, h in SIZES.values() if w <= sensor[0] and h <= sensor[1]), default=0) * \
        JPEG_BYTES_PER_PIXEL


@cache
def board_limits() -> dict[str, int]:
    """Per board name (and "sim", the virtual reader), the largest frame in bytes; "" for an unknown board."""
    limits = {path.stem: profile_limit(firmware_board.parse(path.read_text(encoding="utf-8")))
              for path in sorted(BOARDS.glob("*.json"))}
    limits["sim"] = profile_limit(firmware_board.SIM)
    limits[""] = max(limits.values())
    return limits


def frame_limit(board: object) -> int:
    """Largest frame the board a HELLO named may send (any board's largest if unknown)."""
    limits = board_limits()
    return limits.get(board if isinstance(board, str) else "", limits[""])


@dataclass
class Assembly:
    """One frame in assembly: its header and the bytes received so far, in order."""
    kind: int
    width: int
    height: int
    length: int
    captured_ms: int
    started: float
    buf: bytearray = field(default_factory=bytearray)
    broken: bool = False        # a chunk went missing: the data is dropped, the END still gets its ACK


class Frames:
    """The frames in assembly on one link, keyed by (reader id, frame id). `dropped` counts frames refused
    or evicted for a bound; `refusal` is called with a reason for each (the caller logs, throttled)."""

    def __init__(self, board_of: Callable[[int], object], clock: Callable[[], float] = time.monotonic) -> None:
        self._board_of = board_of
        self._clock = clock
        self._open: dict[tuple[int, int], Assembly] = {}
        self.dropped = 0

    @property
    def held(self) -> int:
        """Bytes of frame data held now."""
        return sum(len(a.buf) for a in self._open.values())

    def start(self, msg: P.Message) -> None:
        """A FRAME_START: BodyError (nothing kept) if it announces more than the reader's board allows."""
        kind, width, height, length, captured = P.parse_frame_start(msg)
        limit = frame_limit(self._board_of(msg.reader))
        if length > limit or (kind == P.JPEG and width * height * JPEG_BYTES_PER_PIXEL > limit):
            self.dropped += 1
            raise P.BodyError(f"{P.KINDS[kind]} frame {width}x{height} of {length} bytes is larger than its "
                              f"board allows ({limit} bytes)")
        self._expire()
        key = (msg.reader, msg.seq)
        self._open.pop(key, None)
        mine = [k for k in self._open if k[0] == msg.reader]
        while len(mine) >= PER_READER:
            self._evict(mine.pop(0))
        while len(self._open) >= PER_LINK:
            self._evict(next(iter(self._open)))
        self._open[key] = Assembly(kind, width, height, length, captured, self._clock())

    def chunk(self, msg: P.Message) -> None:
        """A FRAME_CHUNK: appended if it follows the bytes received; a gap marks the frame broken."""
        asm = self._open.get((msg.reader, msg.seq))
        if asm is None:
            return
        off, data = P.parse_frame_chunk(msg)
        if off + len(data) > asm.length:
            del self._open[(msg.reader, msg.seq)]
            raise P.BodyError("chunk beyond the frame's length")
        if asm.broken or off != len(asm.buf):      # a lost chunk: the CRC would fail anyway, keep no data
            asm.broken, asm.buf = True, bytearray()
            return
        while self.held + len(data) > BUDGET:      # older frames go first; one frame alone always fits
            self._evict(next(k for k, a in self._open.items() if a is not asm))
        asm.buf += data

    def end(self, msg: P.Message) -> tuple[Assembly, bool] | None:
        """A FRAME_END: (the assembly, whether it is whole and its CRC matches), or None for a frame not held."""
        asm = self._open.pop((msg.reader, msg.seq), None)
        if asm is None:
            return None
        crc = P.parse_frame_end(msg)
        return asm, not asm.broken and len(asm.buf) == asm.length and P.crc32(asm.buf) == crc

    def _expire(self) -> None:
        now = self._clock()
        for key in [k for k, a in self._open.items() if now - a.started > DEADLINE_S]:
            self._evict(key)

    def _evict(self, key: tuple[int, int]) -> None:
        del self._open[key]
        self.dropped += 1
