"""Self-test verdicts from a reader's status: every line says PASS or FAIL, and a FAIL says what to do."""

from __future__ import annotations

import copy

import pytest

from host_bridge.devtools.selftest import evaluate

HEALTHY = {
    "board": "esp32-s3-eye",
    "camera": {"present": True, "sensor": "OV2640", "frame_size": "QVGA", "fps": 11.8},
    "decoder": {"backend": "micropython", "ms_per_frame": 240},
    "output": "hid",
    "usb": {"native": True, "hid": True},
    "mem_free": 150_000,
    "config": {"ok": True, "errors": []},
}
OUTPUTS = ["framed", "line", "hid", "tcp"]


def lines(status: dict, outputs=OUTPUTS) -> dict[str, str]:
    return {c.name: c.line() for c in evaluate(status, outputs)}


def test_a_healthy_reader_passes_every_line() -> None:
    got = lines(HEALTHY)
    assert list(got) == ["camera", "decoder", "output", "usb", "heap", "config"]
    assert all(line.startswith("PASS") for line in got.values())
    assert "OV2640 at QVGA, 11.8 fps" in got["camera"] and "240 ms" in got["decoder"] and "146 KB" in got["heap"]


@pytest.mark.parametrize("change, name, remedy", [
    (lambda s: s["camera"].update(present=False, error="sensor not detected"), "camera", "ribbon cable"),
    (lambda s: s["camera"].update(fps=0.5), "camera", "lower the frame size"),
    (lambda s: s["decoder"].update(ms_per_frame=2300), "decoder", "use output framed"),
    (lambda s: s["decoder"].update(backend="none"), "decoder", "need an on-board decoder"),
    (lambda s: s.update(output="usb-hid"), "output", "one of framed, line, hid, tcp"),
    (lambda s: s["usb"].update(hid=False), "usb", "use output line"),
    (lambda s: s["usb"].update(keyboard_lib=False), "usb", "mip install usb-device-keyboard"),
    (lambda s: s.update(mem_free=20_000), "heap", "smaller frame size"),
    (lambda s: s.pop("mem_free"), "heap", "update the firmware"),
    (lambda s: s.update(config={"ok": False, "errors": ["output: 'hdi' unknown"]}), "config", "config.json"),
])
def test_each_fault_fails_its_own_line_with_a_remedy(change, name: str, remedy: str) -> None:
    status = copy.deepcopy(HEALTHY)
    change(status)
    got = lines(status)
    assert got[name].startswith("FAIL") and remedy in got[name] and " -> " in got[name]
    assert [n for n, line in got.items() if line.startswith("FAIL")] == [name]


def test_streaming_without_on_board_decoder_is_fine() -> None:
    status = copy.deepcopy(HEALTHY)
    status.update(output="framed", decoder={"backend": "none"})
    assert lines(status)["decoder"].startswith("PASS")


def test_an_empty_status_fails_everything_but_usb() -> None:  # including an unreported decoder
    got = lines({}, None)
    assert [n for n, line in got.items() if line.startswith("PASS")] == ["usb"]


def test_unmeasured_figures_pass_and_say_so() -> None:
    status = copy.deepcopy(HEALTHY)
    status["camera"]["fps"] = None
    status["decoder"]["ms_per_frame"] = None
    got = lines(status)
    assert got["camera"].startswith("PASS") and "not measured" in got["camera"]
    assert got["decoder"].startswith("PASS") and "not measured" in got["decoder"]
