"""Replay through the virtual reader: images -> firmware (streaming mode) -> wire protocol -> host decode.

Rows have the same shape as direct replay (`{"file", "symbols", "ms"}` or `{"file", "error"}`) plus
`"via": runtime`, so `host_bridge.testbench.replay` builds and compares them the same way.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from host_bridge.decode.engines import Engine
from host_bridge.decode.files import decode_row
from host_bridge.testbench import virtual_reader as vr
from host_bridge.link.frames import frame_gray
from host_bridge.link.reader_link import Frame, ReaderLink

Row = dict[str, Any]


def frame_row(image: Path, frame: Frame, engine: Engine) -> Row:
    """Decode one streamed frame as direct replay decodes the image file."""
    return decode_row(image, lambda: frame_gray(frame), engine)


def reader_rows(images: list[Path], runtime: str, engine: Engine, heap: str = "192k",
                frame_format: str = "gray8") -> dict[Path, Row]:
    """A row per image, every frame having gone through the firmware and the wire protocol (as gray8 or JPEG)."""
    with vr.frames_dir() as tmp:
        failed = vr.write_frames(images, Path(tmp), frame_format)
        sent = [i for i in images if i not in failed]
        rows: dict[Path, Row] = {i: {"file": str(i), "error": why} for i, why in failed.items()}
        frames: list[Frame] = []

        def on_frame(reader: int, frame: Frame) -> None:
            # None: the frame's ACK says nothing, so the reader never steps its light profiles and every
            # frame is the image file at automatic exposure, as direct replay decodes it.
            if len(frames) < len(sent):
                rows[sent[len(frames)]] = frame_row(sent[len(frames)], frame, engine)
            frames.append(frame)

        cmd = vr.command(runtime, Path(tmp), "framed", decode="host", drain_ms=5000, heap=heap, frame_format=frame_format)
        with subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
            link = ReaderLink(vr.PipeStream(proc), lambda *a: None, on_frame=on_frame)
            link.run()
            proc.stdin.close()  # type: ignore[union-attr]
            err = proc.stderr.read().decode("utf-8", "replace")  # type: ignore[union-attr]
            code = proc.wait()
        for image in sent[len(frames):]:
            rows[image] = {"file": str(image), "error": f"virtual reader ({runtime}) sent no frame for it"
                                                        + (f": exit {code}: {err.strip()[-300:]}" if code else "")}
    for row in rows.values():
        row["via"] = runtime
    return rows
