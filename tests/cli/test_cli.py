"""The `electeur` command: every subcommand has --help; user mistakes are one line, no traceback."""

import subprocess
import sys

import pytest

from host_bridge.cli import build_parser


def electeur(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "host_bridge.cli", *args], capture_output=True, text=True, timeout=120)


def subcommands() -> list[str]:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return sorted(sub.choices)


def test_bench_lists_its_benchmarks() -> None:
    result = electeur("bench", "--help")
    assert result.returncode == 0 and "BENCHMARK" in result.stdout


@pytest.mark.parametrize("name", subcommands())
def test_every_subcommand_has_help(name: str) -> None:
    result = electeur(name, "--help")
    assert result.returncode == 0
    assert "usage: electeur " + name in result.stdout


def test_unknown_option_is_one_line_without_traceback() -> None:
    result = electeur("version", "--no-such-option")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
