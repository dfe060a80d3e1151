"""`electeur selftest`: turn a reader's status report into one PASS/FAIL line per subsystem, each FAIL with a remedy.

`evaluate(status)` is the whole judgement and needs no device; the command fetches `status` from the reader
over the wire protocol. Status keys read here (missing ones FAIL, saying so): board, camera{present, sensor,
frame_size, fps, error}, decoder{backend, ms_per_frame}, output, usb{native, hid, keyboard_lib}, mem_free, config{ok, errors}.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from host_bridge.devtools.boards import load_board
from host_bridge.devtools.device import Device
from host_bridge.errors import UserError

PROBE_SCRIPT = Path(__file__).resolve().parents[1] / "data" / "board_probe.py"

MIN_FPS = 2.0            # below this a code held still for a second is seen in too few frames
SLOW_DECODE_MS = 1000.0  # slower on-board decoding feels broken at the counter
MIN_HEAP = 32 * 1024     # headroom the scan loop needs beyond a QVGA gray frame
STREAMING_OUTPUTS = ("framed", "tcp")


@dataclass(frozen=True)
class Check:
    """One line of the self-test: what was checked, the verdict, what was seen, what to do on a fail."""

    name: str
    ok: bool
    seen: str
    remedy: str = ""

    def line(self) -> str:
        text = f"{'PASS' if self.ok else 'FAIL'}  {self.name:<8} {self.seen}"
        return text if self.ok else f"{text} -> {self.remedy}"


def _camera(status: dict[str, Any]) -> Check:
    cam = status.get("camera") or {}
    if not cam.get("present"):
        return Check("camera", False, f"no camera ({cam.get('error') or 'not reported'})",
                     "check the ribbon cable is seated (contacts facing the board), the camera pins in board.json, "
                     "and that the MicroPython image has the camera driver and PSRAM enabled")
    if cam.get("fps") is None:
        return Check("camera", True, f"{cam.get('sensor', '?')} answers; frame rate not measured by this probe")
    fps = float(cam["fps"])
    seen = f"{cam.get('sensor', '?')} at {cam.get('frame_size', '?')}, {fps:.1f} fps"
    if fps < MIN_FPS:
        return Check("camera", False, seen, "lower the frame size (config frame_size) or stream JPEG; check the "
                                            "camera clock (xclk_hz) and power supply (5 V, 500 mA)")
    return Check("camera", True, seen)


def _decoder(status: dict[str, Any]) -> Check:
    dec = status.get("decoder") or {}
    backend, output = dec.get("backend"), status.get("output")
    if backend is None:
        return Check("decoder", False, "decoder not reported",
                     "show the reader a code while the self-test runs, or probe the board: --board NAME")
    if backend == "none":
        ok = output in STREAMING_OUTPUTS
        return Check("decoder", ok, f"no on-board decoder, output {output}: frames go to the host",
                     "line and hid outputs need an on-board decoder: use output framed with the host bridge, or "
                     "deploy the firmware with its MicroPython decoder (electeur deploy)")
    if dec.get("ms_per_frame") is None:
        return Check("decoder", True, f"{backend} available; speed not measured by this probe")
    ms = float(dec["ms_per_frame"])
    seen = f"{backend}, {ms:.0f} ms per frame"
    if ms <= 0 or ms > SLOW_DECODE_MS:
        return Check("decoder", False, seen, "decode at QVGA gray (config frame_size), or use output framed "
                                             "so the host decodes (zxing-cpp, about 1 ms per frame)")
    return Check("decoder", True, seen)


def _output(status: dict[str, Any], outputs: list[str] | None) -> Check:
    output = status.get("output")
    offered = outputs or [str(output)]
    ok = output in offered and output in ("framed", "line", "hid", "tcp")
    return Check("output", ok, f"mode {output}",
                 f"set config output to one of {', '.join(o for o in offered if o)} (electeur deploy --output MODE)")


def _usb(status: dict[str, Any]) -> Check:
    usb = status.get("usb") or {}
    seen = f"native USB {'yes' if usb.get('native') else 'no (USB-serial bridge)'}, HID {'yes' if usb.get('hid') else 'no'}"
    if status.get("output") == "hid" and not usb.get("hid"):
        return Check("usb", False, seen, "keyboard mode needs native USB and machine.USBDevice (MicroPython >= 1.23 "
                                         "on rp2, >= 1.25 on ESP32-S3; never on the ESP32-CAM): flash a newer image "
                                         "or use output line")
    if status.get("output") == "hid" and usb.get("keyboard_lib") is False:
        return Check("usb", False, seen + ", usb-device-keyboard missing",
                     "install micropython-lib's keyboard: mpremote connect PORT mip install usb-device-keyboard")
    return Check("usb", True, seen)


def _heap(status: dict[str, Any]) -> Check:
    free = status.get("mem_free")
    if not isinstance(free, int) and status.get("board") == "sim":
        # The virtual reader on CPython has no MicroPython heap (gc.mem_free): nothing to measure, nothing to fix.
        return Check("heap", True, "not measured: the virtual reader runs on CPython, which has no MicroPython "
                                   "heap (electeur sim --runtime micropython reports one)")
    if not isinstance(free, int):
        return Check("heap", False, "free heap not reported", "update the firmware (electeur deploy)")
    return Check("heap", free >= MIN_HEAP, f"{free // 1024} KB free",
                 "use a smaller frame size, or a board with PSRAM; reset the reader (a leak shows as falling heap)")


def _config(status: dict[str, Any]) -> Check:
    cfg = status.get("config") or {}
    if cfg.get("ok"):
        return Check("config", True, "config.json valid")
    errors = "; ".join(cfg.get("errors") or ["not reported"])
    return Check("config", False, f"running on defaults: {errors}",
                 "fix config.json (electeur deploy --config FILE writes a new one)")


def evaluate(status: dict[str, Any], outputs: list[str] | None = None) -> list[Check]:
    """The self-test verdicts for a reader's status; `outputs` are the modes its board profile offers."""
    return [_camera(status), _decoder(status), _output(status, outputs), _usb(status), _heap(status),
            _config(status)]


def probe_board(port: str, board: str) -> dict[str, Any]:
    """Status measured by running data/board_probe.py on the board through the raw REPL, then resetting it.

    Needs only MicroPython and the camera driver on the board, so it also diagnoses a board before deploy.
    """
    profile = load_board(board)
    device = Device(port)
    try:
        status = device.literal(f"PROFILE = {profile!r}\n" + PROBE_SCRIPT.read_text(encoding="utf-8"))
    except BaseException:
        device.close()
        raise
    device.reset()
    if not isinstance(status, dict):
        raise UserError(f"the board on {port} answered the self-test with {type(status).__name__}, not a status")
    return status
