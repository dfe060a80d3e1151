"""`electeur bench firmware-viper`: viper and portable pixel loops on the MicroPython unix port, same reads."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest


def bench(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "host_bridge.cli", "bench", "firmware-viper", *args],
                          capture_output=True, text=True, timeout=300)


@pytest.mark.micropython
def test_each_synthetic_frame_reads_the_same_on_both_paths_and_the_ratio_is_printed() -> None:
    result = bench("--frames", "1", "--repeat", "1")
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0] + " " + line.split()[1]: line.split()[2:] for line in result.stdout.splitlines()[1:-1]}
    assert set(rows) == {f"{res} {kind}" for res in ("QQVGA", "QVGA", "VGA") for kind in ("code", "empty")}
    for n, _read, same, viper_ms, portable_ms, ratio, _median in rows.values():
        assert n == same == "1" and float(viper_ms) > 0 and float(portable_ms) > 0 and float(ratio) > 0
    assert rows["QVGA code"][1] == "1" and rows["QVGA empty"][1] == "0"
    assert result.stdout.rstrip().endswith("frames read differently by the two paths: 0")


@pytest.mark.micropython
def test_a_baseline_tree_is_timed_beside_this_one(tmp_path) -> None:
    """`--baseline`: an earlier decoder (here a copy of this one, with its viper code slowed down) compiled and
    timed on the unix port; the speed-up column says how much faster this tree's viper decode is."""
    from host_bridge.package_data import firmware_dir
    slow = tmp_path / "firmware"
    shutil.copytree(firmware_dir(), slow, ignore=shutil.ignore_patterns("__pycache__"))
    decoder = slow / "qr" / "decoder.py"  # every frame decoded three times over: a baseline three times slower
    decoder.write_text(decoder.read_text().replace("    f = binarize.Frame(buf, width, height, fast)\n",
                                                   "    for _ in range(2):\n        _scan(binarize.Frame(buf, width, "
                                                   "height, fast), 2, None)\n    f = binarize.Frame(buf, width, height, fast)\n"))
    result = bench("--frames", "1", "--repeat", "1", "--baseline", str(slow))
    assert result.returncode == 0, result.stderr
    speedup = {" ".join(line.split()[:2]): float(line.split()[-1]) for line in result.stdout.splitlines()[1:-1]}
    assert speedup["QVGA code"] > 1.8 and speedup["VGA code"] > 1.8


def test_a_bad_repeat_directory_or_baseline_is_a_one_line_error(tmp_path) -> None:
    for args in (["--repeat", "0"], [str(tmp_path / "missing")], ["--baseline", str(tmp_path)]):
        result = bench(*args)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
