"""Firmware properties: the config loader never stops the reader, and the keyboard/line outputs can never
type a control key or split a read, whatever bytes a code carries."""

import asyncio
import json

import pytest
from hypothesis import given, settings, strategies as st

from firmware import config, keymaps
from firmware.outputs import Refused
from firmware.outputs.hid import SUFFIX, PrintedKeyboard, plan
from firmware.outputs.line import LineOutput
from wedge import SEPARATORS, wedge_text

FAST = settings(max_examples=200, deadline=None)
JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
                    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=10), kids, max_size=4),
                    max_leaves=12)
CONFIG_LIKE = st.dictionaries(st.sampled_from(sorted(config.SCHEMA)) | st.text(max_size=8), JSON, max_size=8)
SAFE_MODIFIERS = {0, keymaps.SHIFT, keymaps.ALTGR}
LINE_BREAK_KEYS = {keymaps.ENTER, keymaps.TAB}


def _assert_valid(cfg: dict) -> None:
    assert set(cfg) == set(config.SCHEMA)
    assert all(config.check(k, v) is None for k, v in cfg.items())


@FAST
@given(obj=JSON | CONFIG_LIKE)
def test_any_json_gives_a_valid_config_and_one_error_per_rejected_key(obj) -> None:
    cfg, errors = config.validate(obj)
    _assert_valid(cfg)
    if isinstance(obj, dict):
        rejected = [k for k in obj if config.check(k, obj[k])]
        assert len(errors) == len(rejected)
        assert all(cfg[k] == v for k, v in obj.items() if k not in rejected)
    else:
        assert errors


@FAST
@given(text=st.text(max_size=200) | CONFIG_LIKE.map(json.dumps))
def test_any_config_file_text_loads_as_a_valid_config(tmp_path_factory, text) -> None:
    path = tmp_path_factory.mktemp("cfg") / "config.json"
    path.write_text(text, encoding="utf-8")
    cfg, errors = config.load(str(path))
    _assert_valid(cfg)
    assert all(isinstance(e, str) and e for e in errors)


def test_a_config_file_that_is_not_utf8_gives_defaults_and_an_error(tmp_path) -> None:
    path = tmp_path / "config.json"
    path.write_bytes(b'{"name": "\xff"}')
    cfg, errors = config.load(str(path))
    assert cfg == config.defaults() and errors


def test_a_deeply_nested_config_file_gives_defaults_and_an_error(tmp_path) -> None:
    path = tmp_path / "config.json"
    path.write_text("[" * 100_000)
    cfg, errors = config.load(str(path))
    assert cfg == config.defaults() and errors


class Sink:
    """A port that keeps what is written."""

    def __init__(self) -> None:
        self.data = b""

    def write(self, b: bytes) -> None:
        self.data += b

    def read(self) -> bytes:
        return b""


def _typed(payload: bytes, layout: str, gs: str, suffix: str) -> str:
    """What the LGO receives: the plan typed on the simulated keyboard."""
    port = Sink()
    kbd = PrintedKeyboard(port, layout)
    for keys in plan(payload, keymaps.LAYOUTS[layout](), gs, 512, SUFFIX[suffix]):
        for key in keys:
            kbd.press(key)
    kbd.end()
    return port.data.decode()


@FAST
@given(payload=st.binary(max_size=600) | st.text(max_size=300).map(str.encode),
       layout=st.sampled_from(sorted(keymaps.LAYOUTS)), gs=st.sampled_from(["<GS>", "~", "|", "#"]),
       suffix=st.sampled_from(sorted(SUFFIX)))
def test_hid_never_types_a_control_key_and_types_exactly_the_read(payload, layout, gs, suffix) -> None:
    try:
        groups = plan(payload, keymaps.LAYOUTS[layout](), gs, 512, SUFFIX[suffix])
    except Refused as exc:
        assert str(exc)                                 # refused with a reason: error feedback, nothing typed
        assert wedge_text(payload, layout) is None        # as the documented rules say
        return
    body = groups[:len(groups) - len(SUFFIX[suffix])]
    for keys in body:
        for code, mods in keys:
            assert mods in SAFE_MODIFIERS                # never Ctrl, Alt or GUI: no shortcut
            assert code not in LINE_BREAK_KEYS           # no Enter/Tab inside a read
            assert 0x04 <= code <= 0x38 or code == 0x64  # letters, digits, punctuation, space only
    typed = _typed(payload, layout, gs, suffix)
    want = "".join({**SEPARATORS, "\x1d": gs}.get(ch, ch) for ch in payload.decode("utf-8"))
    assert typed == want + {"enter": "\n", "tab": "\t\n", "none": "\n"}[suffix]


@FAST
@given(payload=st.binary(max_size=400))
def test_line_output_writes_one_whole_line_or_refuses(payload) -> None:
    port = Sink()
    try:
        asyncio.run(LineOutput(port, config.defaults()).emit(payload))
    except Refused:
        assert (b"\r" in payload or b"\n" in payload) and port.data == b""
        return
    assert port.data == payload + b"\r\n" and port.data.count(b"\n") == 1
