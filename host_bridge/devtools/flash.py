"""`electeur flash`: write a MicroPython image, with esptool (ESP32) or a UF2 copy (Pico in BOOTSEL mode)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Callable

import esptool

from host_bridge.devtools.boards import load_board
from host_bridge.devtools.device import check_port_exists
from host_bridge.errors import UserError

UF2_MAGIC = (0x0A324655, 0x9E5D5157)
UF2_FAMILIES = {  # family IDs from the UF2 spec (uf2families.json)
    "rp2040": {0xE48BFF56},
    "rp2350": {0xE48BFF57, 0xE48BFF59, 0xE48BFF5A},
}
ESP_IMAGE_MAGIC = 0xE9


def check_image(profile: dict[str, Any], image: Path | None) -> Path:
    """The image file must exist and be of the kind this board's flasher writes."""
    tool = profile["flash"]["tool"]
    if image is None:
        raise UserError(f"no image file: pass --firmware FILE (a MicroPython {'.uf2' if tool == 'uf2' else '.bin'} "
                        f"for {profile['name']}; download: {profile['flash'].get('image_url', 'micropython.org')})")
    if not image.is_file():
        raise UserError(f"no such image file {image}")
    head = image.read_bytes()[:512]
    if tool == "uf2":
        if len(head) < 512 or (int.from_bytes(head[0:4], "little"), int.from_bytes(head[4:8], "little")) != UF2_MAGIC:
            raise UserError(f"{image} is not a UF2 image (a Pico takes the .uf2 build of MicroPython)")
        family = int.from_bytes(head[28:32], "little")
        allowed = set().union(*(UF2_FAMILIES[c.lower()] for c in profile["machine_chips"]))
        if int.from_bytes(head[8:12], "little") & 0x2000 and family not in allowed:
            raise UserError(f"{image} is built for UF2 family {family:#010x}, not for "
                            f"{'/'.join(profile['machine_chips'])}; download the right build")
    elif tool == "esptool" and (not head or head[0] != ESP_IMAGE_MAGIC):
        raise UserError(f"{image} is not an ESP32 firmware image (first byte must be 0xE9; take the .bin file)")
    return image


def esptool_command(profile: dict[str, Any], port: str, image: Path, baud: int, erase: bool) -> list[list[str]]:
    """The esptool runs that flash `image` at the board's offset (erase first when asked)."""
    major = int(esptool.__version__.split(".")[0])
    write, erase_cmd = ("write-flash", "erase-flash") if major >= 5 else ("write_flash", "erase_flash")
    base = [sys.executable, "-m", "esptool", "--chip", profile["flash"]["chip"], "--port", port, "--baud", str(baud)]
    runs = [base + [erase_cmd]] if erase else []
    return runs + [base + [write, "-z", profile["flash"]["offset"], str(image)]]


def uf2_search_roots() -> list[Path]:
    """Where operating systems mount removable volumes."""
    user = os.environ.get("USER") or os.environ.get("USERNAME") or ""
    roots = [Path("/media") / user, Path("/run/media") / user, Path("/media"), Path("/mnt"), Path("/Volumes")]
    if os.name == "nt":
        roots += [Path(f"{letter}:/") for letter in "DEFGHIJKLMNOPQRSTUVWXYZ"]
    return roots


def find_uf2_volume(profile: dict[str, Any], volume: Path | None, roots: list[Path] | None = None) -> Path:
    """The mounted bootloader volume: `volume` if given, else one found under the usual mount roots."""
    labels = [profile["flash"]["volume"], *profile["flash"].get("volume_alt", [])]
    roots = roots if roots is not None else uf2_search_roots()
    # A root may itself be the volume (a Windows drive letter), or hold it under its label (/media/$USER).
    candidates = [volume] if volume else [r / label for r in roots for label in labels] + roots
    for c in candidates:
        info = c / "INFO_UF2.TXT"
        if info.is_file():
            text = info.read_text(errors="replace")
            if any(f"Board-ID: {label}" in text for label in labels):
                return c
            info_line = "; ".join(text.strip().splitlines())
            raise UserError(f"{c} is a UF2 bootloader volume but not a {'/'.join(labels)} one ({info_line})")
    where = volume or ", ".join(f"{r}/{labels[0]}" for r in roots[:3])
    raise UserError(f"no {'/'.join(labels)} volume mounted (looked at {where}): the board is not in BOOTSEL mode; "
                    "hold BOOTSEL while plugging it in (or run machine.bootloader() on it), then retry")


def flash(board: str, port: str | None, image: Path | None, *, volume: Path | None = None, baud: int = 460800,
          erase: bool = False, dry_run: bool = False, say: Callable[[str], None] = print) -> None:
    """Flash MicroPython onto `board`; with dry_run, print what would run."""
    profile = load_board(board)
    tool = profile["flash"]["tool"]
    if tool == "openmv-ide":
        raise UserError(f"{profile['name']} is flashed with OpenMV IDE (Tools > Run Bootloader) or its "
                        f"'openmv-cli'; images: {profile['flash'].get('image_url', 'openmv.io')}")
    image = check_image(profile, image)
    if tool == "esptool":
        if not port:
            raise UserError(f"--port is required for {profile['name']} (e.g. /dev/ttyUSB0, COM3)")
        runs = esptool_command(profile, port, image, baud, erase)
        for cmd in runs:
            say("$ " + " ".join(cmd[1:] if cmd[0] == sys.executable else cmd).replace("-m esptool", "esptool", 1))
        if dry_run:
            return
        check_port_exists(port)
        for cmd in runs:
            if subprocess.run(cmd).returncode:
                raise UserError("esptool failed: check the port, hold BOOT (IO0 to GND on the ESP32-CAM) while "
                                "pressing RESET to enter the download mode, and retry with --baud 115200")
        say(f"flashed {image.name}; press RESET (ESP32-CAM: remove the IO0-GND jumper first)")
        return
    target = find_uf2_volume(profile, volume)
    say(f"copy {image} -> {target / image.name}")
    if dry_run:
        return
    shutil.copyfile(image, target / image.name)
    say("copied; the board reboots into MicroPython and the volume disappears")
