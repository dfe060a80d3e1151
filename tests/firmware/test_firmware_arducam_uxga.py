"""The Pico's recommended build end to end: UXGA JPEG frames of a prescription and of a phone-screen apCV, rendered
at that build's pixels per module at the stand's distance (tools/optics.py), served by a stand-in ArduCAM FIFO (no
camera on this machine; tools/micropython/arducam_stream.py) to the real firmware on MicroPython with the
Pico's heap (the unix port's fixed heap; the wasm port with --strict-heap), streamed as framed wire messages over a
pty to `electeur run`, whose link, frame assembly and zxing-cpp decoder read both codes. The apCV frame's JPEG is
twice the Pico's whole heap: the firmware streams it from the FIFO, 1 KB at a time."""

from __future__ import annotations

import importlib.util
import io
import subprocess
import threading
from pathlib import Path

import pytest
from PIL import Image

from conftest import REPO
from tests.helpers.micropython import MP_RUNTIMES, PICO_HEAP, mp_argv

from host_bridge.package_data import micropython_script
from host_bridge.testbench.bridge_faults import sinks_config
from host_bridge.testbench.fault_rig import Bridge, wait_until
from host_bridge.testbench.pty_relay import PtyRelay

pytestmark = pytest.mark.micropython
SCRIPT = micropython_script("arducam_stream.py")
BOARD = "pico-arducam-ov2640"

spec = importlib.util.spec_from_file_location("optics", REPO / "tools" / "optics.py")
optics = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
spec.loader.exec_module(optics)  # type: ignore[union-attr]


def uxga_frames(folder: Path) -> list[tuple[bytes, int]]:
    """The prescription at JPEG quality 80 (optics.py's measurement, ~100 KB: an OV2640 UXGA frame's size) and
    the apCV at 95 (~490 KB, larger than the Pico's heap) as the FIFO would hold them; (payload, JPEG bytes) each."""
    profile = next(p for p in optics.profiles() if p["name"] == BOARD)
    build = optics.build_optics(profile, optics.stand_distance_mm())
    assert (build["width"], build["height"]) == (1600, 1200) and profile["recommended"]["stream_format"] == "jpeg"
    folder.mkdir()
    shown = []
    for (short, _, _, n), kind, quality in zip(optics.CODES, ("ordonnance", "apcv"), (80, 95)):
        frame, payload = optics.render_frame(kind, n, build["codes"][short]["px"], (1600, 1200), 1)
        jpeg = io.BytesIO()
        Image.fromarray(frame).save(jpeg, "JPEG", quality=quality)
        (folder / f"{kind}.jpg").write_bytes(jpeg.getvalue())
        shown.append((payload, len(jpeg.getvalue())))
    (folder / "frames.txt").write_text("ordonnance.jpg\napcv.jpg\n")
    return shown


@pytest.mark.parametrize("runtime", MP_RUNTIMES)
@pytest.mark.timeout(240)
def test_the_picos_uxga_jpeg_build_streams_a_prescription_and_an_apcv_to_the_bridge_which_reads_both(
        runtime: str, tmp_path: Path) -> None:
    shown = uxga_frames(tmp_path / "frames")
    argv = mp_argv(runtime, str(PICO_HEAP), SCRIPT, "serve", "/frames", f"/boards/{BOARD}.json",
                   mounts={tmp_path / "frames": "/frames", REPO / "hardware" / "boards": "/boards"})
    if runtime == "micropython":
        argv.insert(argv.index("--heap"), "--strict-heap")      # a heap that grows past the Pico's: MemoryError
    reader = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    relay = PtyRelay(reader)
    device = relay.plug()
    threading.Thread(target=relay.run, daemon=True).start()
    bridge = Bridge(tmp_path, device, sinks_config(None, None))
    try:
        wait_until(lambda: len(bridge.lookups()) >= 2 or reader.poll() is not None, 180, "both codes read")
        texts = [lookup["text"] for lookup in bridge.lookups()]
        assert reader.wait(60) == 0
    finally:
        bridge.stop()
        if reader.poll() is None:
            reader.kill()
            reader.wait()
    err = reader.stderr.read().decode("utf-8", "replace")  # type: ignore[union-attr]
    assert texts == [payload.decode() for payload, _ in shown], err[-800:]
    total, free, peak, largest = (int(v) for v in err.split("heap ")[-1].split()[:4])
    assert largest == shown[1][1] > 2 * PICO_HEAP             # the apCV's JPEG: twice the Pico's whole heap
    if runtime == "micropython-unix":   # a fixed heap (MemoryError past it), 64-bit objects: harsher than a Pico
        assert peak < free < total <= PICO_HEAP
        print(f"{runtime}: heap {total} B, free at start {free} B, live peak {peak} B; JPEGs {[s for _, s in shown]} B")


def test_the_pico_frame_bench_measures_the_firmwares_share_of_a_chunk_and_derives_the_frame_time(capsys) -> None:
    """docs/performance.md's figures come from this command: the firmware's work per 1 KB chunk stays a small
    share of the chunk's SPI read and USB transfer on an RP2040."""
    import re

    from host_bridge.cli import main
    assert main(["bench", "pico-frame", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    iterations = float(re.search(r"firmware per chunk: ([\d.]+) bytecode loop iterations", out).group(1))
    firmware, spi = (float(v) for v in re.search(r"RP2040 per chunk: firmware [\d.]+-([\d.]+) ms .* SPI FIFO read "
                                                 r"([\d.]+) ms", out).groups())
    assert 1 < iterations < 80 and firmware < spi      # even at a heavy 21 µs per iteration
    assert re.search(r"derived   150 KB UXGA JPEG: 0\.\d\d-0\.\d\d s to stream", out)
