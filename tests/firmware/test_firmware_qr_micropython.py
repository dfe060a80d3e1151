"""The QR decoder runs under real MicroPython on a QVGA frame in a 192 KB heap: 1.27 (wasm, whose heap grows:
"GC: total" must stay put) and 1.29 (unix port, fixed heap: MemoryError past it; viper pixel loops)."""

from __future__ import annotations

import pytest

from host_bridge.testbench.micropython_qr import decode_frames
from host_bridge.testbench import synthetic_frames as synthetic

pytestmark = pytest.mark.micropython
RUNTIMES = ["micropython", "micropython-unix"]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_qvga_frame_decodes_under_micropython_in_192k(runtime: str, capsys: pytest.CaptureFixture[str]) -> None:
    frame = synthetic.printed_code(synthetic.RESOLUTIONS["QVGA"], seed=1)
    run = decode_frames([frame], heap_kb=192, runtime=runtime)
    assert run.payloads == [[synthetic.PRESCRIPTION.encode()]]
    assert run.heap_before <= 192 * 1024 and run.heap_after == run.heap_before, "the GC heap grew beyond 192 KB"
    assert run.ms[0] <= 1500, f"{run.ms[0]} ms per QVGA frame under {runtime}"
    with capsys.disabled():
        print(f"\n{runtime}: QVGA frame decoded in {run.ms[0]} ms within a 192 KB heap (viper: {run.viper})")


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_empty_frame_gives_nothing_under_micropython(runtime: str) -> None:
    run = decode_frames([synthetic.empty_scene(synthetic.RESOLUTIONS["QVGA"], seed=2)], heap_kb=192, runtime=runtime)
    assert run.payloads == [[]] and run.heap_after == run.heap_before


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_segment_modes_eci_and_mirror_read_the_same_under_micropython(runtime: str) -> None:
    """Kanji (version 9), long numeric at level H, UTF-8 with ECI, a mirrored symbol: exact bytes on MicroPython."""
    import io

    import numpy as np
    import segno
    from PIL import Image

    def render(qr: segno.QRCode, scale: int) -> np.ndarray:
        out = io.BytesIO()
        qr.save(out, kind="png", scale=scale, border=4)
        return np.asarray(Image.open(out).convert("L"))

    kanji = "漢字日本語点茗" * 6
    frames = [render(segno.make(kanji, mode="kanji", error="q", version=9, micro=False, boost_error=False), 2),
              render(segno.make("0123456789" * 40, error="h", micro=False), 2),
              render(segno.make("Grüße ABC-123 /x", encoding="utf-8", eci=True, micro=False), 3),
              np.ascontiguousarray(render(segno.make("MIRROR-TEST-42", micro=False), 3).T)]
    run = decode_frames(frames, heap_kb=4096, runtime=runtime)
    assert run.payloads == [[kanji.encode("shift_jis")], [b"0123456789" * 40], ["Grüße ABC-123 /x".encode()],
                            [b"MIRROR-TEST-42"]]


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_light_on_dark_code_decodes_under_micropython_in_192k(runtime: str) -> None:
    """A phone in dark mode, on real MicroPython (the unix port with the viper loops): read, heap kept."""
    import numpy as np

    frame = np.ascontiguousarray(255 - synthetic.printed_code(synthetic.RESOLUTIONS["QVGA"], seed=1))
    run = decode_frames([frame], heap_kb=192, runtime=runtime)
    assert run.payloads == [[synthetic.PRESCRIPTION.encode()]]
    assert run.heap_after == run.heap_before
