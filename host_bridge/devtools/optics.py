"""Pixels per QR module a board's camera gives at the stand's distance, and whether the code fits the frame: what
decides whether a build can read a 2 cm prescription QR and a phone-screen apCV. The pinhole model and its
assumptions are docs/optics.md's (written by tools/optics.py, which uses these functions); here `electeur deploy`
uses them to warn before an on-board build that cannot read both."""

from __future__ import annotations

import math
import re
from typing import Any

from host_bridge.package_data import stand_design

STAND = stand_design()
FRAME_PX = {"QQVGA": (160, 120), "QVGA": (320, 240), "VGA": (640, 480), "SVGA": (800, 600), "XGA": (1024, 768),
            "HD": (1280, 720), "SXGA": (1280, 1024), "UXGA": (1600, 1200)}
RX_SIDE_MM, RX_MODULES = 20.0, 45   # a 2 cm prescription QR, 110 bytes at error correction M: version 7
APCV_SIDE_MM, APCV_MODULES = 40.0, 57   # a phone-screen apCV QR, 4 cm, 200 bytes at error correction M: version 10
MARGINAL_PX = 2.0                   # below this no decoder reads; 2-3 px reads on sharp still frames only
MARGIN = 1.3                        # a code fits a frame when its side plus 30 % fits the frame's height


def fov_width_mm(hfov_deg: float, distance_mm: float) -> float:
    return 2 * distance_mm * math.tan(math.radians(hfov_deg) / 2)


def px_per_module(width_px: int, hfov_deg: float, distance_mm: float, side_mm: float, modules: int) -> float:
    return width_px / fov_width_mm(hfov_deg, distance_mm) * side_mm / modules


def code_view(size: tuple[int, int], hfov_deg: float, distance_mm: float, side_mm: float,
              modules: int) -> tuple[float, bool]:
    """(pixels per module, whether the code with its margin fits the frame's height) for a `size` frame."""
    per_mm = size[0] / fov_width_mm(hfov_deg, distance_mm)
    return per_mm * side_mm / modules, side_mm * MARGIN * per_mm <= size[1]


def stand_distance_mm() -> float:
    """The stand's default reading distance (stand.scad `reading_distance`): where the patient holds the code."""
    found = re.search(r"^reading_distance = (\d+(?:\.\d+)?);", STAND.read_text(encoding="utf-8"), re.M)
    return float(found.group(1)) if found else 200.0


def onboard_warning(profile: dict[str, Any], config: dict[str, Any], lens_hfov: float | None = None) -> str | None:
    """A warning when `config` decodes on board (line/hid output, or a decode other than "host": "auto" decodes on
    board when the firmware has a decoder, as it always does) and the board's optics cannot read a 2 cm
    prescription QR or a phone-screen apCV at the stand's distance; it names the build that reads both (the
    profile's `recommended`)."""
    if config.get("output") not in ("line", "hid") and config.get("decode", "auto") == "host":
        return None
    hfov = lens_hfov or profile["camera"]["lens"]["hfov_deg"]
    size = config.get("frame_size", "QVGA")
    distance = stand_distance_mm()
    field = fov_width_mm(hfov, distance)
    cannot = []
    for name, side, modules in (("a 2 cm prescription QR", RX_SIDE_MM, RX_MODULES),
                                ("a phone-screen apCV (4 cm)", APCV_SIDE_MM, APCV_MODULES)):
        px, fits = code_view(FRAME_PX[size], hfov, distance, side, modules)
        if not fits:
            cannot.append(f"{name} does not fit its {field:.0f} × {field * FRAME_PX[size][1] / FRAME_PX[size][0]:.0f} "
                          "mm field")
        elif px < MARGINAL_PX:
            cannot.append(f"{name} gets {px:.1f} px per module")
    if not cannot:
        return None
    b = profile.get("recommended")
    if b is None:
        fix = "this profile names no recommended build"
    elif b["decode"] == "host":
        fix = (f"the build that reads both: --output {b['output']} with config decode host, stream_format "
               f"{b.get('stream_format', 'gray8')}, frame_size {b['frame_size']} (the host bridge decodes)")
    else:
        fix = (f"the build that reads both: {b['lens']['part']}, frame_size {b['frame_size']} (in the BOM; once "
               f"fitted, deploy with --lens-hfov {b['lens']['hfov_deg']:g})")
    return (f"warning: {profile['name']} with a {hfov:g}° lens at {size}, at the stand's {distance / 10:g} cm: "
            f"{' and '.join(cannot)}: it will not read on board; {fix}; see docs/optics.md")
