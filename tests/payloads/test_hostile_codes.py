"""The hostile-code corpus (tools/hostile_codes.py) through every path a read takes: host decoding and
classification, the firmware's scan loop with the `hid` and `line` outputs, and `framed` over the wire
protocol to the host's ReaderLink. Nothing crashes, no control key is typed, no read is split or altered."""

from __future__ import annotations

import asyncio
import base64
import importlib.util
import json
from pathlib import Path

import jsonschema
import pytest

from conftest import REPO
from firmware import config, keymaps
from firmware.feedback import Feedback
from firmware.outputs.framed import FramedOutput
from firmware.outputs.hid import HidOutput, PrintedKeyboard
from firmware.outputs.line import LineOutput
from firmware.scan import ScanLoop
from host_bridge.decode.engines import get_engine
from host_bridge.decode.image import load_gray
from host_bridge.link.reader_link import ReaderLink
from host_bridge.payloads import build_lookup, now_source
from wedge import wedge_text

_spec = importlib.util.spec_from_file_location("hostile_codes", REPO / "tools/hostile_codes.py")
hostile = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hostile)  # type: ignore[union-attr]

SCHEMA = json.loads((REPO / "docs/schemas/epu-lookup.v1.json").read_text())
NAMES = [c["name"] for c in hostile.cases()]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, bytes, dict]]:
    out = tmp_path_factory.mktemp("hostile")
    hostile.write(out)
    manifest = json.loads((out / "manifest.json").read_text())
    return {c["name"]: (out / c["file"], base64.b64decode(c["bytes_b64"]), c) for c in manifest["codes"]}


class Port:
    """A serial port in memory: what the firmware writes, and bytes queued for it to read."""

    def __init__(self) -> None:
        self.written = b""
        self.incoming = b""

    def write(self, data: bytes) -> None:
        self.written += bytes(data)

    def read(self, *_: int) -> bytes:
        data, self.incoming = self.incoming, b""
        return data


class OneShot:
    """Camera and decoder of the simulated board for one presentation of a code already decoded by the host."""

    name = "host"

    def __init__(self, payload: bytes) -> None:
        self.frames = [(0, 0, 0, b"", 1000)]
        self.payload = payload

    def capture(self):
        return self.frames.pop() if self.frames else None

    def set_light(self, on: bool) -> None:
        pass

    def decode(self, frame) -> list[tuple[bytes, str]]:
        return [(self.payload, "qr")]


class RecordingKeyboard(PrintedKeyboard):
    """The simulated keyboard, keeping every key pressed."""

    def __init__(self, port: Port, layout: str) -> None:
        super().__init__(port, layout)
        self.pressed: list[tuple[int, int]] = []

    def press(self, key: tuple[int, int]) -> bool:
        self.pressed.append(key)
        return super().press(key)


def _scan(payload: bytes, output_for) -> tuple[Feedback, ScanLoop]:
    cfg = config.defaults()
    cfg["change_threshold"] = 0
    shot, feedback = OneShot(payload), Feedback({})
    loop = ScanLoop(cfg, shot, shot, output_for(cfg, feedback), feedback)
    asyncio.run(loop.step())
    return feedback, loop


@pytest.mark.parametrize("name", NAMES)
def test_host_decodes_the_exact_bytes_and_classifies_them_safely(corpus, name: str) -> None:
    image, payload, entry = corpus[name]
    assert [s.data for s in get_engine().decode(load_gray(image))] == [payload]
    lookup = build_lookup(payload, source=now_source("hostile"))
    jsonschema.validate(lookup, SCHEMA)
    assert base64.b64decode(lookup["bytes_b64"]) == payload
    if entry["expect"]["kind"]:
        assert lookup["kind"] == entry["expect"]["kind"]
        assert lookup["action"]["code"] != "consult_prescription"
    else:
        assert lookup["status"] == "invalid" and lookup["action"]["reason"]   # refused, saying why


@pytest.mark.parametrize("name", NAMES)
def test_hid_types_no_control_key_and_refused_reads_give_error_feedback(corpus, name: str) -> None:
    _, payload, _ = corpus[name]
    port = Port()
    kbd = RecordingKeyboard(port, "azerty")
    feedback, loop = _scan(payload, lambda cfg, fb: HidOutput(kbd, cfg))
    *body, last = kbd.pressed or [None]
    for code, mods in body:
        assert mods in (0, keymaps.SHIFT, keymaps.ALTGR) and code not in (keymaps.ENTER, keymaps.TAB)
    expected = wedge_text(payload)
    if feedback.counts["error"]:
        assert kbd.pressed == [] and port.written == b"" and loop.stats["refused"] == 1
    else:   # typed exactly, accents through the layout, GS/RS/US made visible
        assert last == (keymaps.ENTER, 0) and feedback.counts["good"] == 1
        assert port.written.decode() == f"{expected}\n"
    assert bool(feedback.counts["good"]) == (expected is not None)


@pytest.mark.parametrize("name", NAMES)
def test_line_sends_one_whole_line_or_refuses(corpus, name: str) -> None:
    _, payload, _ = corpus[name]
    port = Port()
    feedback, _ = _scan(payload, lambda cfg, fb: LineOutput(port, cfg))
    if b"\r" in payload or b"\n" in payload:
        assert feedback.counts["error"] == 1 and port.written == b""
    else:
        assert feedback.counts["good"] == 1 and port.written == payload + b"\r\n"


@pytest.mark.parametrize("name", NAMES)
def test_framed_delivers_exact_bytes_once_and_is_acknowledged(corpus, name: str) -> None:
    _, payload, _ = corpus[name]
    fw_port, host_stream, reads = Port(), Port(), []
    link = ReaderLink(host_stream, lambda reader, seq, data, meta: reads.append(data))
    holder: list[FramedOutput] = []
    feedback, _ = _scan(payload, lambda cfg, fb: holder.append(FramedOutput(fw_port, cfg, {"name": "sim"}, 10, fb))
                        or holder[0])
    assert feedback.counts["good"] == 0                     # framed: the good beep waits for the host's ACK
    link.feed(fw_port.written)
    fw_port.incoming = host_stream.written
    holder[0].poll()
    assert reads == [payload] and feedback.counts["good"] == 1
    assert len(holder[0].outbox) == 0                   # acknowledged: nothing left to resend
