"""The QR decoder runs under real MicroPython 1.27 (wasm) on a QVGA frame in a 192 KB heap."""

from __future__ import annotations

import pytest

from host_bridge.decode.micropython_qr import decode_frames
from host_bridge.decode import synthetic

pytestmark = pytest.mark.micropython


def test_qvga_frame_decodes_under_micropython_in_192k(capsys: pytest.CaptureFixture[str]) -> None:
    frame = synthetic.printed_code(synthetic.RESOLUTIONS["QVGA"], seed=1)
    run = decode_frames([frame], heap_kb=192)
    assert run.payloads == [[synthetic.PRESCRIPTION.encode()]]
    assert run.heap_before <= 192 * 1024 and run.heap_after == run.heap_before, "the GC heap grew beyond 192 KB"
    assert run.ms[0] <= 1500, f"{run.ms[0]} ms per QVGA frame under MicroPython wasm"
    with capsys.disabled():
        print(f"\nMicroPython wasm: QVGA frame decoded in {run.ms[0]} ms within a 192 KB heap")


def test_empty_frame_gives_nothing_under_micropython() -> None:
    run = decode_frames([synthetic.empty_scene(synthetic.RESOLUTIONS["QVGA"], seed=2)], heap_kb=192)
    assert run.payloads == [[]] and run.heap_after == run.heap_before
