"""`electeur bench firmware-decoder`: its inputs are checked before any timing starts."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from host_bridge.testbench import corpus_table
from host_bridge.testbench.benches.firmware_decoder import qvga
from host_bridge.testbench.firmware_cost import frame_cost
from host_bridge.testbench.synthetic_frames import PRESCRIPTION, printed_code


def test_samples_directory_without_manifest_is_a_one_line_error(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "host_bridge.cli", "bench", "firmware-decoder", "--samples", str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [f"electeur bench: {tmp_path}: no manifest.json (make one with `electeur samples --out {tmp_path}`)"]


def test_baseline_that_is_not_a_firmware_tree_is_a_one_line_error(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "host_bridge.cli", "bench", "firmware-decoder", "--baseline", str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "not a firmware tree" in result.stderr


def test_qvga_framing_keeps_the_aspect_ratio(tmp_path: Path) -> None:
    """A 16:9 image is letterboxed into 320x240, not stretched: square modules stay square."""
    path = tmp_path / "wide.png"
    Image.fromarray(np.zeros((720, 1280), np.uint8)).save(path)
    frame = qvga(path)
    assert frame.shape == (240, 320)
    assert (frame[:30] == 128).all() and (frame[30:210] == 0).all() and (frame[210:] == 128).all()


def test_corpus_reads_are_judged_by_text_in_the_corpus_charsets() -> None:
    """A GB2312 or Shift_JIS payload of the expected text is a read; any other payload is a wrong read."""
    expected = "\x01\x10AD:SUB:阿;;".encode()
    assert corpus_table.matches(b"\x01\x10AD:SUB:\xb0\xa2;;", expected)  # qrcode-2/33.png, GB2312
    assert corpus_table.matches("処方箋".encode("shift_jis"), "処方箋".encode())
    assert not corpus_table.matches(b"\x01\x10AD:SUB:;;", expected)
    double_qr = Path("zxing-qrcode/qrcode-2/16.png")  # a second symbol inside the first one
    inner = "[内側QRコード]\r\n\r\n*ダブルQR*\r\nhttp://d-qr.net/ex/".encode("shift_jis")
    assert not corpus_table.wrong(inner, b"outer text", double_qr)
    assert corpus_table.wrong(inner, b"outer text", Path("zxing-qrcode/qrcode-2/15.png"))


def test_corpus_frames_shrink_large_photos_and_keep_small_ones_pixel_for_pixel() -> None:
    small = np.zeros((240, 240), np.uint8)
    frame = corpus_table.framed(small, (640, 480))
    assert frame.shape == (480, 640) and (frame[120:360, 200:440] == 0).all() and (frame[:120] == 128).all()
    assert (corpus_table.framed(np.zeros((960, 1280), np.uint8), (320, 240)) == 0).all()


def test_cost_units_do_not_depend_on_the_host_and_viper_takes_the_pixel_loops() -> None:
    from firmware.qr.decoder import decode
    gray = printed_code((320, 240), 0)
    portable = frame_cost(decode, gray, viper=False)
    assert frame_cost(decode, gray, viper=False) == portable  # counted, not timed
    viper = frame_cost(decode, gray, viper=True)
    assert portable.viper == 0 and viper.pixels == portable.pixels
    assert viper.bytecode < portable.bytecode / 2 < viper.viper  # the per-pixel loops run natively on a viper port


def test_a_baseline_firmware_tree_runs_beside_the_repos_own(tmp_path: Path) -> None:
    """`--baseline DIR`: an earlier decoder version is imported next to the current one, neither replacing the other."""
    import firmware.qr.decoder as current

    shutil.copytree(Path(current.__file__).parent, tmp_path / "firmware" / "qr")
    (tmp_path / "firmware" / "__init__.py").write_text("")
    baseline = corpus_table.load_firmware_decoder(tmp_path / "firmware")
    assert Path(baseline.__file__).is_relative_to(tmp_path)
    assert sys.modules["firmware.qr.decoder"] is current
    gray = printed_code((320, 240), 1)
    assert baseline.decode(gray.tobytes(), 320, 240) == current.decode(gray.tobytes(), 320, 240) == [PRESCRIPTION.encode()]


def test_a_qvga_code_frame_fits_selftests_threshold_on_an_rp2040_with_margin() -> None:
    """Issue 12: the decoder took 0.8-1.2 s per QVGA code frame on an (emulated) RP2040, against selftest's
    1,000 ms. Its counts on a viper port, at the RP2040's calibrated cost per iteration, must leave half of it."""
    from firmware.qr.decoder import decode
    from host_bridge.devtools.selftest import SLOW_DECODE_MS
    from host_bridge.testbench.firmware_cost import rp2040_ms
    for seed in range(3):
        low, high = rp2040_ms(frame_cost(decode, printed_code((320, 240), seed), viper=True))
        assert high <= SLOW_DECODE_MS / 2, (seed, low, high)
