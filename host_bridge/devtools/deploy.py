"""`electeur deploy`: compile firmware/ for the board's MicroPython, check the board, copy, reset.

Device layout (relative to the board's working directory, `/` on ESP32 and rp2, `/flash` on OpenMV):
`firmware/**.mpy` (the package), `board.json` (the board profile), `config.json`, `main.py` (starts the reader);
on boards with USB HID also `boot.py` (registers the USB keyboard when the output is hid), and with
`--output hid` micropython-lib's usb-device-keyboard under `lib/` (mpremote's mip, from the package index or
a mirror given with --mip-index).
"""

from __future__ import annotations

import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from mpremote import mip
from mpremote.commands import CommandError

from host_bridge.devtools import mpy
from host_bridge.devtools.boards import board_path, load_board
from host_bridge.devtools.device import Device, check_port_exists
from host_bridge.devtools.optics import onboard_warning
from host_bridge.errors import UserError
from host_bridge.package_data import firmware_dir

FIRMWARE_DIR = firmware_dir()
# The interrupt character goes off before the imports: a host's first byte (0x03) must not stop the boot.
MAIN_STUB = (b"# written by electeur deploy: start the reader (firmware/main.py reads /board.json, /config.json)\n"
             b"import micropython\nmicropython.kbd_intr(-1)\nfrom firmware.main import main\nmain()\n")
BOOT_STUB = (b"# written by electeur deploy: a USB keyboard beside the REPL's serial port when config output is hid\n"
             b"try:\n    import firmware.boot\nexcept ImportError as exc:\n    print('e-lecteur boot:', exc)\n")
HID_PACKAGES = ("usb-device-keyboard",)  # micropython-lib; pulls usb-device-hid and usb-device
MIP_INDEX = mip._PACKAGE_INDEX          # https://micropython.org/pi/v2, as `mpremote mip install`
FLASH_MARGIN = 16 * 1024  # room left for config writes and logs after a deploy

# Lists every file under firmware/ on the board: stale modules must go, and a left-over .py would shadow its .mpy.
LIST_FIRMWARE = """import os
def walk(d):
    found = []
    try:
        entries = list(os.ilistdir(d))
    except OSError:
        return found
    for e in entries:
        p = d + '/' + e[0]
        found += walk(p) if e[1] == 0x4000 else [p]
    return found
print(repr(walk('firmware')))"""

PROBE = ("import sys\nprint(repr((tuple(sys.implementation.version[:3]), sys.implementation._mpy, "
         "sys.implementation._machine)))")


@dataclass(frozen=True)
class Upload:
    """One file to copy: where it goes on the board, what it is (for the printed plan), its bytes."""

    remote: str
    source: str
    data: bytes


def build_uploads(board: str, compiled: list[mpy.Compiled], config: dict[str, Any], hid: bool = False) -> list[Upload]:
    """Everything deploy copies, in order: modules first, main.py last (the old one is removed before copying);
    boot.py on boards with USB HID (`hid`)."""
    uploads = [Upload(c.rel, f"compiled {c.rel}", c.path.read_bytes()) for c in compiled]
    uploads.append(Upload("board.json", str(board_path(board).relative_to(board_path(board).parents[2])),
                          board_path(board).read_bytes()))
    uploads.append(Upload("config.json", "config", json.dumps(config, indent=1, sort_keys=True).encode()))
    if hid:
        uploads.append(Upload("boot.py", "boot.py stub (firmware.boot: USB keyboard when output is hid)", BOOT_STUB))
    uploads.append(Upload("main.py", "main.py stub (firmware.main.main())", MAIN_STUB))
    return uploads


BUILD_KEYS = ("decode", "frame_size", "stream_format")   # what a profile's recommended build sets in config.json


def make_config(profile: dict[str, Any], output: str | None, config_file: Path | None) -> dict[str, Any]:
    """The config written to the board: a user file if given, else defaults; the output mode must suit the board.

    The default output is the profile's recommended build's, and a config that names that output but none of
    `BUILD_KEYS` gets the build's (the firmware's own defaults, on-board QVGA gray, read nothing at the stand's
    distance on most boards: docs/optics.md)."""
    config: dict[str, Any] = {}
    if config_file is not None:
        try:
            config = json.loads(config_file.read_text(encoding="utf-8-sig"))  # a Notepad BOM is not JSON
        except FileNotFoundError:
            raise UserError(f"no such config file {config_file}") from None
        except (ValueError, UnicodeDecodeError) as exc:
            raise UserError(f"config file {config_file} is not valid JSON: {exc}") from None
        if not isinstance(config, dict):
            raise UserError(f"config file {config_file} must hold a JSON object")
    recommended = profile.get("recommended")
    if output is not None:
        config["output"] = output
    config.setdefault("output", recommended["output"] if recommended else profile["outputs"][0])
    if config["output"] not in profile["outputs"]:
        raise UserError(f"output {config['output']!r} is not available on {profile['name']} "
                        f"(it offers: {', '.join(profile['outputs'])})")
    if recommended and config["output"] == recommended["output"] and not any(k in config for k in BUILD_KEYS):
        config.update({k: recommended[k] for k in BUILD_KEYS if k in recommended})
    return config


def check_chip(profile: dict[str, Any], machine: str) -> None:
    """Refuse a board that is not the one named: its pins would be wrong."""
    chip = machine.rsplit(" with ", 1)[-1].strip().upper()
    if chip not in profile.get("machine_chips", [chip]):
        raise UserError(f"wrong board: {profile['name']} expects chip {'/'.join(profile['machine_chips'])}, "
                        f"the device reports {machine!r}")


def flash_needed(uploads: list[Upload], already: int) -> int:
    return sum(len(u.data) for u in uploads) - already + FLASH_MARGIN


def packages_for(profile: dict[str, Any], config: dict[str, Any]) -> tuple[str, ...]:
    """micropython-lib packages the firmware needs on this board with this config."""
    return HID_PACKAGES if config["output"] == "hid" and profile["usb"].get("hid") else ()


def deploy(board: str, port: str | None, dry_run: bool, output: str | None, config_file: Path | None,
           say: Callable[[str], None] = print, mip_index: str = MIP_INDEX, pair_key: bytes | None = None,
           lens_hfov: float | None = None) -> list[Upload]:
    """Run (or with dry_run, print) every deploy step; returns the uploads, for tests. `pair_key` goes into
    config.json (the reader's Wi-Fi link key: `electeur deploy --pair`). `lens_hfov`: the field of view of a lens
    fitted instead of the profile's stock one (it decides whether on-board reading works at the counter)."""
    profile = load_board(board)
    if port is not None and not dry_run:
        check_port_exists(port)
    config = make_config(profile, output, config_file)
    if pair_key is not None:
        config["pair_key"] = pair_key.hex()
    warning = onboard_warning(profile, config, lens_hfov)
    if warning:
        print(warning, file=sys.stderr)
    release, emitted = mpy.mpy_cross_version()
    with tempfile.TemporaryDirectory(prefix="electeur-deploy-") as tmp:
        say(f"compile {FIRMWARE_DIR} with mpy-cross {release} (mpy {emitted[0]}.{emitted[1]}, "
            f"for MicroPython {mpy.MPY_RELEASES[emitted]}):")
        compiled = mpy.compile_tree(FIRMWARE_DIR, Path(tmp), "firmware")
        for c in compiled:
            say(f"  {c.rel} ({c.size} B)")
        uploads = build_uploads(board, compiled, config, hid=bool(profile["usb"].get("hid")))
        packages = packages_for(profile, config)
        if dry_run or port is None:
            _print_plan(profile, port or "the board's port", uploads, say, packages, mip_index)
        else:
            _push(profile, port, uploads, say, packages, mip_index)
    return uploads


def _print_plan(profile: dict[str, Any], port: str, uploads: list[Upload], say: Callable[[str], None],
                packages: tuple[str, ...], mip_index: str) -> None:
    say(f"dry run: {port} is not opened; on a real deploy these steps follow:")
    say(f"  open {port}, send RELEASE: a running framed reader hands its serial line back (it resets into the REPL)")
    say("  enter the raw REPL (Ctrl-C, Ctrl-A, soft reset)")
    say("  read sys.implementation: MicroPython >= 1.23 (mpy 6.x), chip "
        f"{'/'.join(profile.get('machine_chips', []))}")
    say(f"  check free flash (os.statvfs) >= {flash_needed(uploads, 0)} B minus the files replaced")
    say("  remove :main.py (until the last copy), and files under :firmware/ that this deploy does not write")
    for package in packages:
        say(f"  mpremote mip install {package} (into :lib, from {mip_index}; files already there are kept)")
    for u in uploads:
        say(f"  copy {u.source} -> :{u.remote} ({len(u.data)} B)")
    say("  reset the board (machine.reset())")


def _push(profile: dict[str, Any], port: str, uploads: list[Upload], say: Callable[[str], None],
          packages: tuple[str, ...], mip_index: str) -> None:
    device = Device(port)
    try:
        version, mpy_field, machine = device.literal(PROBE)
        say(f"device: MicroPython {'.'.join(map(str, version))} on {machine!r}")
        mpy.check_device(version, mpy_field)
        check_chip(profile, machine)
        free, already = _free_flash(device, [u.remote for u in uploads])
        need = flash_needed(uploads, already)
        if free < need:
            raise UserError(f"not enough flash on {port}: {free} B free, the firmware needs {need} B "
                            "(delete files from the board, e.g. 'mpremote fs ls', or use a larger-flash board)")
        say(f"flash: {free} B free, {need} B needed")
        # Without main.py the board boots to the REPL: an interrupted deploy never starts half a firmware.
        device.run("import os\ntry:\n os.remove('main.py')\nexcept OSError:\n pass")
        stale = sorted(set(device.literal(LIST_FIRMWARE)) - {u.remote for u in uploads})
        for path in stale:
            device.run(f"import os\nos.remove({path!r})")
            say(f"removed stale :{path}")
        parents = {u.remote.rsplit("/", i)[0] for u in uploads for i in range(1, u.remote.count("/") + 1)}
        for d in sorted(parents, key=len):
            device.run(f"import os\ntry:\n os.mkdir({d!r})\nexcept OSError:\n pass")
        for package in packages:        # before main.py: a board without them must not start the reader
            install_package(device, package, mip_index)
            say(f"installed {package} into :lib")
        for u in uploads:
            device.write_file(u.remote, u.data)
            say(f"copied {u.source} -> :{u.remote} ({len(u.data)} B)")
    except BaseException:
        device.close()
        raise
    device.reset()
    say("reset the board: the reader starts")


def install_package(device: Device, package: str, index: str) -> None:
    """`mpremote mip install PACKAGE` over the open session (compiled .mpy for the board, into lib/)."""
    try:
        mip._install_package(device.transport, package, index, "lib", None, True)
    except CommandError as exc:
        raise UserError(f"could not install {package} from {index}: {exc} (the USB keyboard needs it; "
                        "without internet, pass --mip-index with a local mirror of the package index)") from None


def _free_flash(device: Device, remotes: list[str]) -> tuple[int, int]:
    """(free bytes in the working directory's filesystem, bytes of files this deploy replaces)."""
    code = ("import os\ns=os.statvfs(os.getcwd())\nold=0\n"
            f"for p in {remotes!r}:\n try:\n  old+=os.stat(p)[6]\n except OSError:\n  pass\n"
            "print(repr((s[0]*s[3],old)))")
    free, replaced = device.literal(code)
    return int(free), int(replaced)
