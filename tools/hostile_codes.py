"""Generate the hostile-code corpus: QR (segno) and Data Matrix (zxing-cpp) images whose payloads try to
break the reader, the keyboard wedge or the pharmacy software, with a manifest.json saying what each one is.

    python tools/hostile_codes.py OUT_DIR

Each manifest entry: file, name, symbology, bytes_b64 (the exact payload), attack (what it tries) and
expect: `kind` the classification it must get (or null for "anything but a usable code") and `usable`
(false: the lookup must be invalid or carry a warning, with a reason). tests/payloads/test_hostile_codes.py runs
the corpus through host decoding, classification and the firmware's hid, line and framed outputs.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import random
import sys
from pathlib import Path
from typing import Any

import numpy as np
import segno
import zxingcpp
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from host_bridge.payloads.validators import ALNUM36  # noqa: E402
from host_bridge.testbench.samples.content import make  # noqa: E402

QR_MAX_BYTES = 2953                     # version 40-L, byte mode
DM_MAX_BYTES = 1556                     # largest ECC200 Data Matrix, byte mode
SCALE = 4


def _samples() -> dict[str, bytes]:
    rng = random.Random(8)
    return {kind: make(kind, rng, dt.date(2026, 1, 1)).payload for kind in ("ordonnance", "ins", "2ddoc")}


def _forged(ordonnance: bytes) -> bytes:
    """The same e-prescription with its number's check character changed (a forged or mistyped number)."""
    parts = ordonnance.split(b"|")
    number = parts[1].decode()
    parts[1] = (number[:-1] + ALNUM36[(ALNUM36.index(number[-1]) + 1) % len(ALNUM36)]).encode()
    return b"|".join(parts)


def _tampered(twoddoc: bytes, flip: bool) -> bytes:
    """The 2D-Doc with its signature zone (after US) altered: one base32 character changed, or non-base32 junk."""
    message, _, sig = twoddoc.partition(b"\x1f")
    sig = (sig[:-1] + (b"A" if sig[-1:] != b"A" else b"B")) if flip else b"0189!" + sig[5:]
    return message + b"\x1f" + sig


def cases() -> list[dict[str, Any]]:
    """(name, symbology, payload, attack, expected kind or None, usable)."""
    s = _samples()
    o = s["ordonnance"]
    rows = [
        ("control-chars", "qr", b"EP1|\x01\x02\x03\x07\x08\x7f|ABC", "C0 controls and DEL typed into the LGO", None),
        ("ctrl-shortcuts", "datamatrix", b"\x01\x13\x1a\x04\x03\x16", "Ctrl-A/S/Z/D/C/V as raw control bytes", None),
        ("ansi-escape", "qr", b"\x1b[2J\x1b]0;pwned\x07\x1b[31mOK", "terminal escape sequences (clear, title)", None),
        ("esc-key", "datamatrix", b"\x1bEP1|\x1b:q!\x1b", "Escape key presses to leave the LGO field", None),
        ("crlf-command", "qr", b"12345\r\ncmd.exe /c del C:\\*.*\r\n", "CR/LF then a command line", None),
        ("lf-in-prescription", "qr", o.replace(b"|", b"\n|", 1), "a valid e-prescription split by a line feed",
         None),
        ("nul-byte", "datamatrix", b"EP1|\x00" + o[4:], "NUL inside an e-prescription", None),
        ("invalid-utf8", "qr", b"EP1|\xff\xfe\xc3\x28|\xed\xa0\x80", "bytes that are not UTF-8", None),
        ("bidi-override", "qr", o.replace(b"|", "|\u202e".encode(), 1), "RLO bidi override flipping the number",
         None),
        ("bidi-name", "qr", o.rsplit(b"|", 3)[0] + "|\u202eTNOPUD\u202c|Marie|1980-02-29".encode(),
         "bidi override hiding the patient name", None),
        ("script-injection", "qr", b"<script>alert(document.cookie)</script><img src=x onerror=alert(1)>",
         "HTML/JS for the counter page", None),
        ("forged-number", "qr", _forged(o), "e-prescription with a forged number (bad check character)", None),
        ("twoddoc-signature-junk", "datamatrix", _tampered(s["2ddoc"], flip=False),
         "2D-Doc with a signature zone that is not base32", "2ddoc"),
        ("twoddoc-signature-flipped", "datamatrix", _tampered(s["2ddoc"], flip=True),
         "2D-Doc with one signature character changed (signatures are not verified: never a dispensation code)",
         "2ddoc"),
        ("ins-datamatrix", "datamatrix", s["ins"], "INS Data Matrix (with GS) that must not pass for an e-prescription",
         "ins"),
        ("huge-qr", "qr", b"EP1|" + b"A" * (QR_MAX_BYTES - 4), "largest QR payload (version 40-L)", None),
        ("huge-datamatrix", "datamatrix", bytes(range(256)) * 6 + b"X" * (DM_MAX_BYTES - 1536),
         "largest Data Matrix payload, every byte value", None),
    ]
    return [{"name": n, "symbology": sym, "payload": p, "attack": a, "kind": k} for n, sym, p, a, k in rows]


def image(symbology: str, payload: bytes) -> Image.Image:
    """The code drawn at SCALE pixels per module with its quiet zone."""
    if symbology == "qr":
        qr = segno.make(payload, error="L" if len(payload) > 2000 else "M", mode="byte", micro=False,
                        boost_error=False)
        dark = np.array([list(row) for row in qr.matrix], dtype=bool)
        dark = np.pad(dark, 4)
        return Image.fromarray(np.where(dark, 0, 255).astype(np.uint8)).resize(
            (dark.shape[1] * SCALE, dark.shape[0] * SCALE), Image.NEAREST)
    code = zxingcpp.create_barcode(payload, zxingcpp.BarcodeFormat.DataMatrix)
    return Image.fromarray(np.asarray(code.to_image(scale=SCALE, add_quiet_zones=True)))


def write(out: Path) -> list[dict[str, Any]]:
    """Write every case's PNG and manifest.json into `out`; return the manifest entries."""
    out.mkdir(parents=True, exist_ok=True)
    manifest = []
    for case in cases():
        name = f"{case['name']}.png"
        image(case["symbology"], case["payload"]).save(out / name)
        manifest.append({"file": name, "name": case["name"], "symbology": case["symbology"],
                         "bytes_b64": base64.b64encode(case["payload"]).decode("ascii"), "attack": case["attack"],
                         "expect": {"kind": case["kind"], "usable": case["kind"] is not None}})
    (out / "manifest.json").write_text(json.dumps({"format": 1, "codes": manifest}, indent=1) + "\n")
    return manifest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="directory to write the images and manifest.json into")
    args = parser.parse_args()
    n = len(write(args.out))
    print(f"{n} hostile codes written to {args.out} (manifest.json)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
