"""The keyboard wedge on a French computer: what the reader's keystrokes type, read back by libxkbcommon's `fr`
layout (and Windows' variant of it), for every character of the layouts and for 200 sample payloads sent
through the virtual reader's scan loop: each read typed exactly, or refused with the error feedback and a
message; no read dropped silently, no control key typed."""

from __future__ import annotations

import asyncio
import string

import pytest

from firmware import board, config, keymaps
from firmware.feedback import Feedback
from firmware.outputs import Refused
from firmware.outputs.hid import HidOutput, PrintedKeyboard, plan
from firmware.scan import ScanLoop
from host_bridge.testbench.samples.generate import draw
from reader_doubles import Codes
from wedge import SEPARATORS
from xkb_french import FrenchComputer

SAMPLES = 200


class RecordingKeyboard:
    """The USB keyboard seen from the computer: each key report (usage, modifiers, modifiers kept after)."""

    def __init__(self) -> None:
        self.reads: list[list[tuple[int, int, int]]] = []
        self.keys: list[tuple[int, int, int]] = []

    def press(self, key: tuple[int, int]) -> bool:
        self.keys.append((key[0], key[1], 0))
        return True                                     # the host took the report

    def release(self, keep: int = 0) -> bool:
        code, mods, _ = self.keys[-1]
        self.keys[-1] = (code, mods, keep)
        return True

    def end(self) -> None:
        self.reads.append(self.keys)
        self.keys = []


def type_on(computer: FrenchComputer, keys) -> FrenchComputer:
    for code, mods, keep in keys:
        computer.key(code, mods, keep)
    return computer


@pytest.mark.parametrize("layout,windows", [("azerty-linux", False), ("azerty", True)])
def test_every_character_of_the_french_tables_types_itself(layout: str, windows: bool) -> None:
    table = keymaps.LAYOUTS[layout]()
    assert set(string.printable[:95]) <= set(table) and set("éèàùçâêîôûäëïöüÿÂÊÎÔÛÄËÏÖÜ€£µ§°²") <= set(table)
    for ch, keys in table.items():
        computer = type_on(FrenchComputer(windows=windows), [(c, m, 0) for c, m in keys])
        assert (computer.typed(), computer.controls) == (ch, []), f"{ch!r} typed {computer.typed()!r}"


def test_names_of_the_users_report_type_directly_with_dead_keys() -> None:
    keys = plan("Zoé Maëlle MÜLLER Noël Hélène Françoise Jérôme".encode(), keymaps.azerty())
    computer = type_on(FrenchComputer(windows=True), [(c, m, 0) for g in keys for c, m in g])
    assert computer.typed() == "Zoé Maëlle MÜLLER Noël Hélène Françoise Jérôme" and computer.controls == []


def test_fallback_alt_codes_follow_windows_1252_and_substitute_is_configured() -> None:
    for ch in "ÉÈÀÇŒœÿ«»€ñß":
        assert keymaps.cp1252(ch) == ch.encode("cp1252")[0]
        assert keymaps.alt_char(keymaps.alt_code(ch)) == ch
    assert keymaps.alt_code("ł") is None                      # not in Windows-1252: no Alt code either
    groups = plan("ÉLODIE".encode(), keymaps.azerty(), fallback="alt")
    assert groups[0] == ((0x62, keymaps.LEFT_ALT), (0x5A, keymaps.LEFT_ALT), (0x62, keymaps.LEFT_ALT),
                         (0x59, keymaps.LEFT_ALT))               # Alt + keypad 0 2 0 1
    with pytest.raises(Refused):
        plan("ÉLODIE".encode(), keymaps.azerty())             # default: refused, not mistyped
    sub = plan("ÉLODIE".encode(), keymaps.azerty(), fallback="substitute", substitute="E")
    assert type_on(FrenchComputer(), [(c, m, 0) for g in sub for c, m in g]).typed() == "ELODIE"


def test_alt_codes_through_the_simulated_keyboard_keep_alt_held_between_digits() -> None:
    cfg = config.defaults() | {"output": "hid", "hid_key_delay_ms": 0, "hid_fallback": "alt"}
    recorder, printed = RecordingKeyboard(), PrintedKeyboard(Port(), "azerty")
    for kbd in (recorder, printed):
        asyncio.run(HidOutput(kbd, cfg).emit("ÇA".encode()))
    assert [keep for _, _, keep in recorder.reads[0][:4]] == [keymaps.LEFT_ALT] * 3 + [0]
    assert printed.port.data.decode() == "ÇA\n"


class Port:
    def __init__(self) -> None:
        self.data = b""

    def write(self, data: bytes) -> None:
        self.data += data


def expected_text(payload: bytes) -> str:
    """The read as text, separators shown (the defaults <GS> <RS> <US>), then the Enter that ends it."""
    return "".join(SEPARATORS.get(ch, ch) for ch in payload.decode("utf-8")) + "\n"


@pytest.mark.parametrize("layout,windows,fallback", [("azerty-linux", False, "refuse"), ("azerty", True, "alt"),
                                                     ("azerty", True, "refuse")])
def test_200_samples_through_the_virtual_reader_typed_exactly_or_refused_visibly(layout, windows, fallback,
                                                                                 capsys) -> None:
    payloads = [draw(1, i)[1].payload for i in range(SAMPLES)]    # the codes of `electeur samples --seed 1`
    cfg = dict(config.defaults(), output="hid", hid_layout=layout, hid_key_delay_ms=0, change_threshold=0,
               decode="board", dedupe_ms=0, hid_fallback=fallback)
    keyboard, feedback = RecordingKeyboard(), Feedback(board.SIM)
    codes = Codes(payloads)
    loop = ScanLoop(cfg, codes, codes, HidOutput(keyboard, cfg), feedback)

    async def scan() -> None:
        while await loop.step():
            pass
    asyncio.run(scan())

    refusals = [line for line in capsys.readouterr().err.splitlines() if line.startswith("e-lecteur: lecture refusee")]
    exact, wrong, controls, typed = 0, [], [], iter(keyboard.reads)
    for payload in payloads:
        try:
            want = expected_text(payload)
            plan(payload, keymaps.LAYOUTS[layout](), max_len=cfg["hid_max_len"], fallback=fallback)
        except (Refused, UnicodeDecodeError):
            continue                                           # refused: no keystrokes for it (below)
        computer = type_on(FrenchComputer(windows=windows), next(typed))
        ends_with_enter = computer.controls[-1:] == ["Return"]
        got = computer.typed() + "\n" * ends_with_enter
        controls += computer.controls[:-1] if ends_with_enter else computer.controls   # Enter ends a read, only
        exact += got == want
        if got != want:
            wrong.append((want, got))
    refused = feedback.counts["error"]
    print(f"\n{layout} (hid_fallback {fallback}): {SAMPLES} samples: {exact} typed exactly, {refused} refused with the error feedback and a "
          f"message, {SAMPLES - exact - refused} silently dropped or mistyped, {len(controls)} control keys")
    assert wrong == [] and controls == [] and next(typed, None) is None
    assert exact + refused == SAMPLES and refused == len(refusals) == loop.stats["refused"]
    # accents and separators are typed; only what no key gives (É È Ç... on Windows without Alt codes) is refused
    assert exact == SAMPLES if fallback == "alt" else exact >= (0.97 if layout == "azerty-linux" else 0.9) * SAMPLES
