"""`electeur bench firmware-viper`: viper and portable pixel loops on the MicroPython unix port, same reads."""

from __future__ import annotations

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
    for n, read, same, viper_ms, portable_ms, ratio, median in rows.values():
        assert n == same == "1" and float(viper_ms) > 0 and float(portable_ms) > 0 and float(ratio) > 0
    assert rows["QVGA code"][1] == "1" and rows["QVGA empty"][1] == "0"
    assert result.stdout.rstrip().endswith("frames read differently by the two paths: 0")


def test_a_bad_repeat_or_directory_is_a_one_line_error(tmp_path) -> None:
    for args in (["--repeat", "0"], [str(tmp_path / "missing")]):
        result = bench(*args)
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
