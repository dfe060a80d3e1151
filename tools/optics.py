"""Optics of each reader camera: field of view and pixels per QR module at the counter distance.

Writes docs/optics.md (`python tools/optics.py`); `--check` exits 1 when that file is out of date. `--measure` renders
samples-style frames of each board's recommended build (profile `recommended`) at the stand's distance and decodes
them (slow: about a minute); the results go to hardware/optics-measured.json, which the note quotes.
Model: a pinhole camera whose horizontal field of view (board profile camera.lens.hfov_deg) spans the
full output width at every resolution (the sensor scales, it does not crop), a code facing the camera
squarely, and the QR version chosen by segno for the assumed payload size at error correction M.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import random
import sys
from pathlib import Path

import segno

from host_bridge.devtools.optics import FRAME_PX, code_view, fov_width_mm, px_per_module, stand_distance_mm

REPO = Path(__file__).resolve().parents[1]
BOARDS = REPO / "hardware" / "boards"
OUT = REPO / "docs" / "optics.md"
MEASURED = REPO / "hardware" / "optics-measured.json"
SEEDS = 4               # frames rendered per code and build

RESOLUTIONS = [("QQVGA", 160), ("QVGA", 320), ("VGA", 640), ("SVGA", 800), ("XGA", 1024), ("HD", 1280),
               ("SXGA", 1280), ("UXGA", 1600)]
DISTANCES_MM = (150, 200, 250)
READ_PX = 3.0      # px per module a decoder reads reliably (zxing-cpp reads ~2 on sharp frames; blur needs more)
MARGINAL_PX = 2.0

# The codes, with the assumptions stated in the output: (label, side in mm, payload bytes).
CODES = [
    ("Rx", "prescription QR, 2 cm printed", 20.0, 110),
    ("apCV", "apCV QR on a phone screen, 4 cm", 40.0, 200),
]


def qr_modules(payload_bytes: int) -> tuple[int, int]:
    """(version, modules per side) of a byte-mode QR holding `payload_bytes` at error correction M."""
    qr = segno.make(b"x" * payload_bytes, error="m", boost_error=False, mode="byte")
    return qr.version, qr.symbol_size(border=0)[0]


def max_distance_mm(width_px: int, hfov_deg: float, side_mm: float, modules: int, px: float = READ_PX) -> float:
    """Farthest distance at which the code still gets `px` pixels per module."""
    return width_px * side_mm / modules / (px * 2 * math.tan(math.radians(hfov_deg) / 2))


def hfov_for(width_px: int, distance_mm: float, side_mm: float, modules: int, px: float = READ_PX) -> float:
    """Lens field of view giving `px` pixels per module at `distance_mm`: what to buy when the stock lens is too wide."""
    return math.degrees(2 * math.atan(width_px * side_mm / modules / (px * 2 * distance_mm)))


def profiles() -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(BOARDS.glob("*.json"))]


def built() -> list[dict]:
    """The profiles that name a recommended build (an optional field of schema 1)."""
    return [p for p in profiles() if "recommended" in p]


def build_optics(profile: dict, distance_mm: float) -> dict:
    """For the recommended build: lens, frame size, and per code its px per module and whether it fits the frame
    (the code's side with a 30 % margin within the frame's height)."""
    build = profile["recommended"]
    hfov = (build["lens"] or profile["camera"]["lens"])["hfov_deg"]
    width, height = FRAME_PX[build["frame_size"]]
    codes = {}
    for short, _, side, n in CODES:
        px, fits = code_view((width, height), hfov, distance_mm, side, qr_modules(n)[1])
        codes[short] = {"px": px, "fits": fits}
    return {"hfov": hfov, "width": width, "height": height, "codes": codes}


def signature(profile: dict, distance_mm: float) -> str:
    """What a measurement depends on: a changed build or stand makes it stale."""
    b = profile["recommended"]
    return f"{b['decode']} {b['frame_size']} {b.get('stream_format', 'gray8')} {build_optics(profile, distance_mm)['hfov']}° {distance_mm:g} mm"


def render_frame(kind: str, payload_bytes: int, px: float, size: tuple[int, int], seed: int):
    """A samples-style frame (host_bridge/testbench/samples): a prescription page or a phone screen showing a QR
    of the assumed payload size, photographed at `px` pixels per module into a `size` frame; None when the code
    does not fit that frame."""
    import numpy as np
    import segno

    from host_bridge.testbench.samples import camera, content, scenes
    rng, nprng = random.Random(seed), np.random.default_rng(seed)
    c = content.make(kind, rng, dt.date(2026, 6, 1))
    payload = (c.payload + b"|" + b"0" * payload_bytes)[:payload_bytes]
    qr = segno.make(payload, error="m", boost_error=False, mode="byte")
    mods = np.array([[1 if v else 0 for v in row] for row in qr.matrix], dtype=np.uint8)
    d = 6
    doc, box = (scenes.prescription_page(mods, d, rng, nprng, c.printed_code) if kind == "ordonnance"
                else scenes.phone_screen(mods, d, rng, nprng))
    frame, got = camera.shoot(doc, box, rng, nprng, module_doc_px=d, module_px=px, tilt=0.05, screen=kind == "apcv",
                              resolution=size, blur=0.5)
    return (frame, payload) if got == size else (None, payload)


def read_frame(frame, payload: bytes, decode: str, seed: int) -> bool:
    """On board: the firmware's own QR decoder (firmware/qr, run by CPython) on the gray frame. Host: the JPEG
    the board would stream, decoded by the bridge's zxing-cpp."""
    if decode == "board":
        from firmware import qr
        return any(bytes(p) == payload for p in qr.decode(frame.tobytes(), frame.shape[1], frame.shape[0]))
    import io

    import numpy as np
    import zxingcpp
    from PIL import Image
    buf = io.BytesIO()
    Image.fromarray(frame).save(buf, "JPEG", quality=80)
    gray = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("L"))
    return any(r.bytes == payload for r in zxingcpp.read_barcodes(gray))


def measure() -> dict:
    """Frames of each recommended build, rendered and decoded: {board: {signature, Rx: 'k/n', apCV: 'k/n'}}."""
    distance = stand_distance_mm()
    out = {}
    for profile in built():
        optics = build_optics(profile, distance)
        row = {"signature": signature(profile, distance)}
        for (short, _, _, n), kind in zip(CODES, ("ordonnance", "apcv")):
            reads = 0
            for seed in range(SEEDS):
                frame, payload = render_frame(kind, n, optics["codes"][short]["px"], (optics["width"], optics["height"]),
                                              seed)
                reads += frame is not None and read_frame(frame, payload, profile["recommended"]["decode"], seed)
            row[short] = f"{reads}/{SEEDS}"
        out[profile["name"]] = row
        print(f"{profile['name']}: {row}", file=sys.stderr)
    return out


def recommended_section() -> list[str]:
    distance = stand_distance_mm()
    measured = json.loads(MEASURED.read_text()) if MEASURED.exists() else {}
    out = [f"## Recommended build per board, at the stand's distance ({distance / 10:g} cm)", "",
           "Each board profile's `recommended` block (`hardware/boards/*.json`) is its build for reading a 2 cm "
           "prescription QR and a phone-screen apCV at the distance `hardware/enclosure/stand.scad` holds the code "
           "(`reading_distance`); the *read* columns say whether it does. *read* = frames rendered as `electeur samples` draws them (a prescription page; "
           "a phone screen with glare and moiré), at that build's resolution and pixels per module, then decoded: "
           "on board by the firmware's own decoder (`firmware/qr`, run by CPython; the OpenMV's built-in "
           "`find_qrcodes` stands in the same place on the camera), from the host by zxing-cpp on the JPEG the board "
           f"streams. {SEEDS} frames each; made by `python tools/optics.py --measure` "
           "(writes `hardware/optics-measured.json`), then `python tools/optics.py`.", "",
           "| board | build | lens (HFOV) | frame | field | Rx px/module | Rx read | apCV px/module | apCV read |",
           "|---|---|---|---|---|---|---|---|---|"]
    notes = []
    for profile in built():
        b, optics = profile["recommended"], build_optics(profile, distance)
        lens = b["lens"]["part"] if b["lens"] else f"stock ({profile['camera']['lens']['hfov_deg']:g}°)"
        m = measured.get(profile["name"], {})
        stale = m.get("signature") != signature(profile, distance)
        cells = []
        for short, *_ in CODES:
            c = optics["codes"][short]
            cells += [verdict(c["px"]) + ("" if c["fits"] else " (does not fit the frame)"),
                      "not measured" if stale else m[short]]
        where = "on board" if b["decode"] == "board" else f"{b.get('stream_format', 'gray8')} to the host"
        field = fov_width_mm(optics["hfov"], distance)
        out.append(f"| `{profile['name']}` | output {b['output']}, {where} | {lens} | {b['frame_size']} | "
                   f"{field:.0f} × {field * optics['height'] / optics['width']:.0f} mm | " + " | ".join(cells) + " |")
        notes.append(f"- `{profile['name']}`: {b['why']}.")
    return out + [""] + notes + [""]


def cameras() -> list[tuple[str, float, str, list[str]]]:
    """Distinct (sensor, hfov, gray_max, boards) cameras among the board profiles."""
    found: dict[tuple[str, float], tuple[str, list[str]]] = {}
    for b in profiles():
        key = (f"{b['camera']['sensor']} ({b['camera']['lens'].get('note', 'lens')})", b["camera"]["lens"]["hfov_deg"])
        found.setdefault(key, (b["camera"]["gray_max"], []))[1].append(b["name"])
    return [(s, h, g, names) for (s, h), (g, names) in found.items()]


def verdict(px: float) -> str:
    px = round(px, 1)
    return f"**{px:.1f}**" if px >= READ_PX else (f"{px:.1f}~" if px >= MARGINAL_PX else f"{px:.1f}")


def render() -> str:
    codes = [(short, label, side, n, *qr_modules(n)) for short, label, side, n in CODES]
    out = ["# Optics: field of view and pixels per QR module", "",
           "Generated by `python tools/optics.py` from the board profiles (`camera.lens.hfov_deg`); "
           "`tests/hardware/test_optics.py` checks this file is current. Do not edit by hand.", "",
           "Assumptions:", "",
           "- pinhole model; the horizontal field of view covers the full output width at every resolution "
           "(the OV2640/OV5640 scale the whole sensor down; HD 1280×720 is taken as full width too);",
           "- the code faces the camera squarely (a tilt of θ shrinks one axis by cos θ);"]
    for short, label, side, n, version, modules in codes:
        out.append(f"- {short} = {label}: payload assumed {n} bytes (byte mode, error correction M) → QR version "
                   f"{version}, {modules}×{modules} modules, module {side / modules:.2f} mm;")
    out += [f"- **bold** = at least {READ_PX:g} px per module (reliable read), `~` = {MARGINAL_PX:g}–{READ_PX:g} px "
            "(sharp, still frames only), plain = below: will not read;",
            "- on-board decoding works on gray frames up to the board's `gray_max`; larger sizes are for "
            "JPEG streaming to the host decoder.", "",
            "What it means: with the stock wide lenses no board reads a 2 cm prescription QR on board at the "
            "counter distance. Either stream JPEG frames at SXGA/UXGA to the host bridge (framed or tcp output), "
            "or fit a narrow M12 lens (the HFOV given below for each camera), or make the stand hold the code "
            "closer (and refocus the lens: the stock OV2640 lens is focused far away). The build each board should "
            "use follows; `electeur deploy --output hid` (or `line`) warns when the board and its optics cannot read "
            "a prescription or a phone-screen apCV on board, and names that build.", "", *recommended_section()]
    for sensor, hfov, gray_max, names in cameras():
        out += [f"## {sensor}, HFOV {hfov:g}° — {', '.join(names)}", "",
                "Field of view width: " + ", ".join(f"{fov_width_mm(hfov, d):.0f} mm at {d / 10:g} cm"
                                                     for d in DISTANCES_MM) + f". On-board gray up to {gray_max}.",
                ""]
        head = "| px per module | " + " | ".join(f"{c[0]} {d / 10:g} cm" for c in codes for d in DISTANCES_MM) + " |"
        out += [head, "|" + "---|" * (1 + len(codes) * len(DISTANCES_MM))]
        for res, width in RESOLUTIONS:
            cells = [verdict(px_per_module(width, hfov, d, side, modules))
                     for _, _, side, _, _, modules in codes for d in DISTANCES_MM]
            out.append(f"| {res} ({width} px) | " + " | ".join(cells) + " |")
        out.append("")
        for short, _, side, _, _, modules in codes:
            width = dict(RESOLUTIONS)[gray_max]
            out.append(f"- {short} at {gray_max} (on-board): reads up to "
                       f"{max_distance_mm(width, hfov, side, modules) / 10:.1f} cm; at 20 cm it needs a lens of "
                       f"HFOV ≤ {hfov_for(width, 200, side, modules):.0f}°, or UXGA JPEG streamed to the host "
                       f"(reads up to {max_distance_mm(1600, hfov, side, modules) / 10:.1f} cm).")
        out.append("")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if docs/optics.md differs from the computed text")
    ap.add_argument("--measure", action="store_true", help="render and decode frames of each recommended build "
                                                           "(writes hardware/optics-measured.json)")
    args = ap.parse_args(argv)
    if args.measure:
        MEASURED.write_text(json.dumps(measure(), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    text = render()
    if args.check:
        if not OUT.exists() or OUT.read_text(encoding="utf-8") != text:
            print(f"{OUT} is out of date: run python tools/optics.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
