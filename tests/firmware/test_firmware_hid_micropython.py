"""The keyboard wedge's text-to-keystrokes and the config's BOM under real MicroPython: the same as on CPython."""

from __future__ import annotations

import pytest

from firmware import keymaps
from firmware.outputs import Refused
from firmware.outputs.hid import plan
from tests.helpers.micropython import run_micropython

CASES = [("Zoé Maëlle Müller Noël", "azerty", "refuse"), ("010340\x1d17281200\x1e10LOT\x1fSIG", "azerty", "refuse"),
         ("ÉLODIE LEFÈVRE Ça", "azerty", "alt"), ("ÉLODIE", "azerty-linux", "refuse"), ("ÇA", "azerty", "refuse"),
         ("a\u202eb", "azerty", "alt")]


def cpython(text: str, layout: str, fallback: str) -> str:
    try:
        return repr([list(g) for g in plan(text.encode(), keymaps.LAYOUTS[layout](), fallback=fallback)])
    except Refused:
        return "refused"


@pytest.mark.micropython
def test_keystrokes_and_refusals_are_the_same_under_micropython(tmp_path) -> None:
    script = ("from firmware import keymaps, config\n"
              "from firmware.outputs import Refused\n"
              "from firmware.outputs.hid import plan\n"
              f"for text, layout, fallback in {CASES!r}:\n"
              "    try:\n"
              "        print(repr([list(g) for g in plan(text.encode(), keymaps.LAYOUTS[layout](), fallback=fallback)]))\n"
              "    except Refused:\n"
              "        print('refused')\n"
              "open('c.json', 'wb').write(b'\\xef\\xbb\\xbf{\"reader_id\": 7}')\n"
              "cfg, errors = config.load('c.json')\n"
              "print(cfg['reader_id'], errors)\n")
    proc = run_micropython(script, tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    lines = proc.stdout.decode().splitlines()
    assert lines[:-1] == [cpython(*case) for case in CASES]
    assert lines[-1] == "7 []"
