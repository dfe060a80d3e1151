"""`electeur selftest --board`: the on-board probe (host_bridge/data/board_probe.py) run through the raw REPL of
the simulated board (tools/rawrepl_board.py: what it simulates is in its docstring; the camera is a fake with
the cnadler86 API surface), and the same probe run on real MicroPython 1.27 (wasm port), which has no camera."""

from __future__ import annotations

import ast
import json
import subprocess
from pathlib import Path

import pytest

from host_bridge.cli import main
from host_bridge.devtools.boards import load_board
from host_bridge.devtools.selftest import PROBE_SCRIPT, evaluate
from host_bridge.testbench.fault_rig import wait_until
from tests.devices.test_deploy import simboard  # noqa: F401  (fixture)

S3 = ["--machine", "ESP32S3 module with ESP32S3"]


def deployed(board, output: str = "hid") -> None:
    (board.root / "config.json").write_text(json.dumps({"output": output}))
    (board.root / "firmware").mkdir()


def selftest(board, name: str, capsys) -> tuple[int, dict[str, str]]:
    code = main(["selftest", "--port", board.port, "--board", name])
    out = capsys.readouterr().out.splitlines()
    return code, {line.split()[1]: line for line in out if line[:4] in ("PASS", "FAIL")} | {"summary": out[-1]}


def test_a_working_board_passes_every_line_and_is_reset(simboard, capsys) -> None:
    board = simboard(*S3, "--usb-device", "--fps", "20")
    deployed(board)
    code, got = selftest(board, "esp32-s3-eye", capsys)
    assert code == 0
    assert "OV2640 at QVGA" in got["camera"] and " fps" in got["camera"]
    fps = float(got["camera"].split(", ")[1].split()[0])
    assert 5 < fps <= 21  # 3 frames timed on a camera giving 20 fps (ms resolution, loaded CI)
    assert "micropython available" in got["decoder"] and "107 KB free" in got["heap"]
    assert board.resets() == 1
    assert got["summary"] == "6/6 passed; the board was reset"


def test_selftest_board_takes_the_line_back_from_a_running_reader(simboard, capsys) -> None:
    board = simboard(*S3, "--usb-device", "--reader")
    deployed(board)
    code, got = selftest(board, "esp32-s3-eye", capsys)
    assert code == 0
    # the simulated board logs its reset as it happens, after selftest has had its answer: wait for it
    wait_until(lambda: board.events.read_text().split() == ["handback", "reset"], 10, "the board's reset")


@pytest.mark.parametrize("extra, output, failing, remedy", [
    (["--camera", "absent"], "hid", "camera", "ribbon cable"),
    (["--camera", "missing"], "hid", "camera", "camera driver"),
    (["--camera", "noframe"], "hid", "camera", "ribbon cable"),
    (["--fps", "1.5"], "hid", "camera", "lower the frame size"),
    (["--heap", "9000"], "hid", "heap", "smaller frame size"),
    ([], "hid", "usb", "use output line"),  # no machine.USBDevice: MicroPython < 1.25 on the S3
])
def test_each_hardware_fault_fails_its_line(simboard, capsys, extra, output, failing: str, remedy: str) -> None:
    board = simboard(*S3, *extra, *(["--usb-device"] if failing != "usb" else []))
    deployed(board, output)
    code, got = selftest(board, "esp32-s3-eye", capsys)
    assert code == 1
    assert got[failing].startswith("FAIL") and remedy in got[failing]
    assert [k for k, v in got.items() if v.startswith("FAIL")] == [failing]


def test_a_board_before_deploy_fails_config_and_output_saying_deploy(simboard, capsys) -> None:
    board = simboard()
    code, got = selftest(board, "esp32-cam-ai-thinker", capsys)
    assert code == 1
    assert "run electeur deploy" in got["config"] and got["output"].startswith("FAIL")
    assert got["decoder"].startswith("FAIL") and got["camera"].startswith("PASS")


def test_selftest_without_board_or_port_is_a_clear_error(capsys) -> None:
    assert main(["selftest", "--port", "/dev/ttyNOPE", "--board", "esp32-s3-eye"]) == 2
    assert "no such port" in capsys.readouterr().err
    assert main(["selftest", "--port", "/dev/ttyNOPE"]) == 2
    assert "no such port" in capsys.readouterr().err


@pytest.mark.micropython
def test_the_probe_runs_on_real_micropython(tmp_path: Path) -> None:
    profile = load_board("pico-arducam-ov2640")
    code = f"PROFILE = {profile!r}\n" + PROBE_SCRIPT.read_text()
    proc = subprocess.run(["node", str(Path(__file__).parents[1] / "helpers" / "mp_replay.mjs")], input=json.dumps([code]),
                          capture_output=True, text=True, timeout=120, cwd=Path(__file__).parent)
    result = json.loads(proc.stdout)[0]
    assert result["err"] == ""
    status = ast.literal_eval(result["out"].strip().splitlines()[-1])
    assert status["camera"]["present"] is False and "machine" in status["camera"]["error"]  # wasm: no machine
    assert isinstance(status["mem_free"], int) and status["mem_free"] > 0
    checks = {c.name: c for c in evaluate(status, profile["outputs"])}
    assert not checks["camera"].ok and checks["heap"].ok and not checks["config"].ok
