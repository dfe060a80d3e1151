"""Every subcommand, given bad arguments and bad paths, answers as a user expects: one line on stderr saying
what is wrong, no traceback, exit status 2, and nothing half-written."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from host_bridge.cli import build_parser, main


def subcommands() -> set[str]:
    """Every command and benchmark the parser knows, as `cmd` or `bench NAME`."""
    names: set[str] = set()
    for action in build_parser()._subparsers._group_actions:  # type: ignore[union-attr]
        assert isinstance(action, argparse._SubParsersAction)
        for name, parser in action.choices.items():
            if name != "bench":
                names.add(name)
            else:
                inner = parser._subparsers._group_actions[0]  # type: ignore[union-attr]
                names |= {f"bench {b}" for b in inner.choices}
    return names


@pytest.fixture
def bad(tmp_path: Path) -> dict[str, str]:
    """A missing path, a file where a directory is expected, a file that is not a database, an empty directory."""
    (tmp_path / "empty").mkdir()
    (tmp_path / "file").write_text("not a directory\n")
    (tmp_path / "junk.sqlite").write_bytes(b"junk, not SQLite")
    return {"missing": str(tmp_path / "missing"), "file": str(tmp_path / "file"), "junk": str(tmp_path / "junk.sqlite"),
            "empty": str(tmp_path / "empty"), "tmp": str(tmp_path)}


CASES = [
    ("bench bridge", ["bench", "bridge", "--frames", "0"]),
    ("bench checkchar", ["bench", "checkchar", "--count", "0"]),
    ("bench decode", ["bench", "decode", "--repeat", "-1"]),
    ("bench deploy", ["bench", "deploy", "--repeat", "0"]),
    ("bench firmware-decoder", ["bench", "firmware-decoder", "--frames", "zero"]),
    ("bench firmware-viper", ["bench", "firmware-viper", "--frames", "0"]),
    ("bench lookup", ["bench", "lookup", "--count", "0"]),
    ("bench pairing", ["bench", "pairing", "--repeat", "0"]),
    ("bench peers", ["bench", "peers", "--count", "-5"]),
    ("bench pico-frame", ["bench", "pico-frame", "--repeat", "0"]),
    ("bench printed-code", ["bench", "printed-code", "--count", "0"]),
    ("bench protocol", ["bench", "protocol", "--frames", "0"]),
    ("bench scan-cost", ["bench", "scan-cost", "--frames", "0"]),
    ("classify", ["classify", "--profiles-dir", "{missing}"]),
    ("decode", ["decode", "{empty}"]),
    ("decode", ["decode", "--engine", "nope", "{tmp}"]),
    ("demo", ["demo", "--workdir", "{file}/sub"]),
    ("demo", ["demo", "--count", "0"]),
    ("deploy", ["deploy", "--dry-run", "--board", "nope", "--port", "x"]),
    ("deploy", ["deploy", "--dry-run", "--board", "esp32-s3-eye", "--port", "x", "--config", "{missing}"]),
    ("devices", ["devices", "--timeout", "x"]),
    ("epu-sandbox", ["epu-sandbox", "--db", "{junk}", "--port", "0"]),
    ("epu-sandbox", ["epu-sandbox", "--db", "{missing}/db.sqlite", "--port", "0"]),
    ("flash", ["flash", "--board", "esp32-s3-eye", "--port", "x", "--firmware", "{missing}", "--dry-run"]),
    ("lookup", ["lookup", "--code", "ZZZ"]),
    ("open", ["open", "--print", "--config", "{missing}"]),
    ("open", ["open", "--print", "--api", "127.0.0.1:1", "--token", "no-bridge-listens-there"]),
    ("pair", ["pair", "{missing}"]),
    ("pair", ["pair"]),
    ("pair", ["pair", "--forget", "3", "--config", "{missing}"]),
    ("replay", ["replay", "{empty}"]),
    ("replay", ["replay", "{missing}"]),
    ("replay", ["replay", "--report", "{missing}/r.json", "{tmp}"]),
    ("run", ["run", "--config", "{missing}"]),
    ("run", ["run", "--journal", "{junk}", "--device", "{missing}", "--api", "127.0.0.1:1"]),
    ("samples", ["samples", "--out", "{file}/sub", "--count", "1"]),
    ("samples", ["samples", "--out", "{tmp}/out", "--count", "1", "--seed-epu", "{junk}"]),
    ("samples", ["samples", "--out", "{tmp}/out", "--count", "0"]),
    ("selftest", ["selftest", "--port", "{missing}"]),
    ("sim", ["sim", "--images", "{empty}"]),
    ("sim", ["sim", "--images", "{tmp}", "--mode", "hid", "--decode", "host"]),
    ("version", ["version", "--nope"]),
]


def test_every_subcommand_has_a_bad_input_case() -> None:
    assert subcommands() <= {name for name, _ in CASES}


@pytest.mark.parametrize("argv", [argv for _, argv in CASES], ids=[" ".join(a) for _, a in CASES])
def test_bad_input_is_one_line_and_exit_2(argv: list[str], bad: dict[str, str], capsys: pytest.CaptureFixture) -> None:
    argv = [a.format(**bad) for a in argv]
    try:
        status = main(argv)
    except SystemExit as exc:          # argparse's own errors
        status = exc.code  # type: ignore[assignment]
    err = capsys.readouterr().err.splitlines()
    assert status == 2
    assert len(err) == 1 and err[0].startswith("electeur"), err
    assert "Traceback" not in err[0] and "Errno" not in err[0]
    assert not (Path(bad["tmp"]) / "out").exists() or not any((Path(bad["tmp"]) / "out").iterdir())


def test_sim_piped_into_head_stops_quietly(corpus: Path) -> None:
    """`electeur sim ... | head -1`: the reader of stdout goes away; no traceback from the firmware."""
    import subprocess
    import sys
    cmd = [sys.executable, "-m", "host_bridge.cli", "sim", "--images", str(corpus / "zxing-qrcode" / "qrcode-3"),
           "--mode", "line", "--show-ms", "0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline()
    proc.stdout.close()                # as `head -1` does after its line
    _, err = proc.communicate(timeout=60)
    assert b"Traceback" not in err and b"BrokenPipe" not in err, err.decode()


def test_devices_json_is_an_array_and_version_lists_the_decoders(capsys: pytest.CaptureFixture) -> None:
    import json
    assert main(["devices", "--json", "--timeout", "0"]) == 0
    assert isinstance(json.loads(capsys.readouterr().out), list)
    assert main(["version"]) == 0
    out = capsys.readouterr().out
    assert "zxing-cpp " in out and "pyzbar " in out and "zbar library" in out
