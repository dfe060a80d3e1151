"""HID output: what the reader types on AZERTY/QWERTY, and hostile payloads never typing control keys."""

from __future__ import annotations

import asyncio
import string

import pytest

from firmware import config, keymaps
from firmware.outputs import Refused
from firmware.outputs.hid import HidOutput, PrintedKeyboard, plan

# Independent description of the French AZERTY layout (Windows "Français"), key by key:
# HID usage -> (unshifted, shifted, AltGr); "" where the key types nothing ASCII; dead keys marked "dead:".
FRENCH = {
    0x1E: ("&", "1", ""), 0x1F: ("é", "2", "dead:~"), 0x20: ('"', "3", "#"), 0x21: ("'", "4", "{"),
    0x22: ("(", "5", "["), 0x23: ("-", "6", "|"), 0x24: ("è", "7", "dead:`"), 0x25: ("_", "8", "\\"),
    0x26: ("ç", "9", "^"), 0x27: ("à", "0", "@"), 0x2D: (")", "°", "]"), 0x2E: ("=", "+", "}"),
    0x2F: ("dead:^", "dead:¨", ""), 0x30: ("$", "£", "¤"), 0x31: ("*", "µ", ""), 0x34: ("ù", "%", ""),
    0x33: ("m", "M", ""), 0x10: (",", "?", ""), 0x36: (";", ".", ""), 0x37: (":", "/", ""),
    0x38: ("!", "§", ""), 0x64: ("<", ">", ""), 0x2C: (" ", " ", ""),
    0x14: ("a", "A", ""), 0x1A: ("z", "Z", ""), 0x04: ("q", "Q", ""), 0x1D: ("w", "W", ""),
}
for _c in "bcdefghijklnoprstuvxy":
    FRENCH[0x04 + ord(_c) - 97] = (_c, _c.upper(), "")


def typed_on_french(groups) -> str:
    """What a PC set to French AZERTY types for these keystrokes (dead key + space = the accent)."""
    out, dead = [], None
    for keys in groups:
        for code, mods in keys:
            col = 2 if mods & keymaps.ALTGR else 1 if mods & keymaps.SHIFT else 0
            if code == keymaps.ENTER:
                out.append("\n")
                continue
            ch = FRENCH[code][col]
            assert ch, f"key 0x{code:02x} with modifiers {mods} types nothing"
            if dead:
                assert ch == " ", "dead key must be followed by space"
                out.append(dead)
                dead = None
            elif ch.startswith("dead:"):
                dead = ch[5:]
            else:
                out.append(ch)
    assert dead is None
    return "".join(out)


@pytest.mark.parametrize("ch", list(string.printable[:95]))
def test_every_printable_ascii_character_types_itself_on_azerty(ch: str) -> None:
    groups = plan(ch.encode(), keymaps.azerty())
    assert typed_on_french(groups) == ch


def test_qwerty_covers_printable_ascii_with_single_keystrokes() -> None:
    table = keymaps.qwerty()
    assert set(table) == set(string.printable[:95])
    assert all(len(k) == 1 and k[0][1] in (0, keymaps.SHIFT) for k in table.values())


@pytest.mark.parametrize("payload", [
    b"ABC\x1b[2J", b"line1\r\nline2", b"tab\there", b"\x00", b"del\x7f", b"\xe2\x80\xae" + b"gpj.exe",
    b"pr\xe9nom", b"ctrl\x03c", b"\x07bell", b"rs\xc2\x9bcsi", "zero\u200bwidth".encode(),
])
def test_hostile_payloads_are_refused_whole(payload: bytes) -> None:
    with pytest.raises(Refused):
        plan(payload, keymaps.azerty(), suffix=((keymaps.ENTER, 0),))


def test_gs_is_typed_as_its_visible_substitute_and_enter_only_ends_the_read() -> None:
    groups = plan(b"010123\x1d17991231", keymaps.azerty(), gs="<GS>", suffix=((keymaps.ENTER, 0),))
    assert typed_on_french(groups) == "010123<GS>17991231\n"
    codes = [k[0] for g in groups for k in g]
    assert codes.count(keymaps.ENTER) == 1 and codes[-1] == keymaps.ENTER
    assert all(mods in (0, keymaps.SHIFT, keymaps.ALTGR) for g in groups for _, mods in g)


def test_too_long_read_is_refused() -> None:
    with pytest.raises(Refused):
        plan(b"x" * 513, keymaps.azerty(), max_len=512)


class Port:
    def __init__(self) -> None:
        self.data = b""

    def write(self, data: bytes) -> None:
        self.data += data


def test_hid_output_types_the_read_through_the_simulated_keyboard() -> None:
    cfg = config.defaults() | {"output": "hid", "hid_key_delay_ms": 0}
    port = Port()
    out = HidOutput(PrintedKeyboard(port, "azerty"), cfg)
    asyncio.run(out.emit(b"Ordo-2024/ABC~`@#{}"))
    assert port.data == b"Ordo-2024/ABC~`@#{}\n"
    with pytest.raises(Refused):
        asyncio.run(out.emit(b"bad\nread"))
    assert port.data == b"Ordo-2024/ABC~`@#{}\n"


class UsbHost:
    """usb-device-keyboard's KeyboardInterface as a host polls it: send_keys is False while the last report waits,
    and a host polling every `every` calls takes one report each time."""

    def __init__(self, every: int = 1) -> None:
        self.every = every
        self.calls = 0
        self.reports: list[tuple[int, ...]] = []

    def send_keys(self, keys, timeout_ms: int = 100) -> bool:
        self.calls += 1
        if not self.every or self.calls % self.every:
            return False
        self.reports.append(tuple(keys))
        return True


def typed_reports(host: UsbHost, payload: bytes) -> list[tuple[int, ...]]:
    from firmware.outputs.hid import UsbKeyboard
    cfg = config.defaults() | {"output": "hid", "hid_key_delay_ms": 0}
    asyncio.run(HidOutput(UsbKeyboard(host), cfg).emit(payload))
    return host.reports


def test_a_slow_polling_host_gets_every_keystroke() -> None:
    """send_keys() returning False (the previous report not yet polled) is retried, never skipped."""
    fast = typed_reports(UsbHost(), b"Ordo-2024/ABC")
    assert typed_reports(UsbHost(every=3), b"Ordo-2024/ABC") == fast
    assert len(fast) == 2 * 14   # press and release per character and for the Enter


def test_a_host_that_stops_polling_refuses_the_read_instead_of_dropping_keys(monkeypatch) -> None:
    from firmware.outputs import hid
    monkeypatch.setattr(hid, "STALL_MS", 50)
    with pytest.raises(Refused, match="took no keystroke"):
        typed_reports(UsbHost(every=0), b"ABC")
