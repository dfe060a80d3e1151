"""`electeur bench firmware-decoder`: its inputs are checked before any timing starts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from host_bridge.testbench.benches.firmware_decoder import qvga


def test_samples_directory_without_manifest_is_a_one_line_error(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "host_bridge.cli", "bench", "firmware-decoder", "--samples", str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [f"electeur bench: {tmp_path}: no manifest.json (make one with `electeur samples --out {tmp_path}`)"]


def test_qvga_framing_keeps_the_aspect_ratio(tmp_path: Path) -> None:
    """A 16:9 image is letterboxed into 320x240, not stretched: square modules stay square."""
    path = tmp_path / "wide.png"
    Image.fromarray(np.zeros((720, 1280), np.uint8)).save(path)
    frame = qvga(path)
    assert frame.shape == (240, 320)
    assert (frame[:30] == 128).all() and (frame[30:210] == 0).all() and (frame[210:] == 128).all()
