"""`electeur flash`: the esptool command built for each ESP32 board, the UF2 copy onto a directory standing in
for the Pico's RPI-RP2 volume (with its INFO_UF2.TXT), and every refusal with its reason. No device needed."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import pytest

from host_bridge.cli import main
from host_bridge.devtools import flash as flashmod
from host_bridge.devtools.boards import load_board

RP2040 = 0xE48BFF56
INFO = "UF2 Bootloader v3.0\nModel: Raspberry Pi RP2\nBoard-ID: RPI-RP2\n"


def uf2(path: Path, family: int = RP2040, blocks: int = 2) -> Path:
    data = b""
    for i in range(blocks):
        head = struct.pack("<8I", 0x0A324655, 0x9E5D5157, 0x2000, 0x10000000 + 256 * i, 256, i, blocks, family)
        data += head + bytes(476) + struct.pack("<I", 0x0AB16F30)
    path.write_bytes(data)
    return path


@pytest.fixture
def volume(tmp_path: Path) -> Path:
    vol = tmp_path / "media" / "RPI-RP2"
    vol.mkdir(parents=True)
    (vol / "INFO_UF2.TXT").write_text(INFO)
    return vol


def test_esptool_command_per_board(tmp_path: Path) -> None:
    image = tmp_path / "mp.bin"
    image.write_bytes(b"\xe9" + bytes(100))
    cam = flashmod.esptool_command(load_board("esp32-cam-ai-thinker"), "/dev/ttyUSB0", image, 460800, erase=True)
    s3 = flashmod.esptool_command(load_board("esp32-s3-eye"), "/dev/ttyACM0", image, 115200, erase=False)
    assert cam[0][1:] == ["-m", "esptool", "--chip", "esp32", "--port", "/dev/ttyUSB0", "--baud", "460800",
                          "erase-flash"]
    assert cam[1][-4:] == ["write-flash", "-z", "0x1000", str(image)]
    assert len(s3) == 1 and s3[0][3:5] == ["--chip", "esp32s3"] and s3[0][-3:-1] == ["-z", "0x0"]
    assert s3[0][0] == sys.executable


def test_dry_run_prints_the_esptool_command(tmp_path: Path, capsys) -> None:
    image = tmp_path / "ESP32_GENERIC-SPIRAM.bin"
    image.write_bytes(b"\xe9" + bytes(100))
    assert main(["flash", "--board", "xiao-esp32s3-sense", "--port", "/dev/ttyACM7", "--firmware", str(image),
                 "--dry-run"]) == 0
    assert capsys.readouterr().out.strip() == (f"$ esptool --chip esp32s3 --port /dev/ttyACM7 --baud 460800 "
                                               f"write-flash -z 0x0 {image}")


def test_uf2_is_copied_onto_the_bootsel_volume(tmp_path: Path, volume: Path, capsys) -> None:
    image = uf2(tmp_path / "RPI_PICO-20251209-v1.27.0.uf2")
    assert main(["flash", "--board", "pico-arducam-ov2640", "--firmware", str(image), "--volume", str(volume)]) == 0
    assert (volume / image.name).read_bytes() == image.read_bytes()
    assert "reboots into MicroPython" in capsys.readouterr().out


def test_uf2_volume_is_found_under_the_mount_roots(tmp_path: Path, volume: Path) -> None:
    found = flashmod.find_uf2_volume(load_board("pico-arducam-ov2640"), None, roots=[tmp_path / "x", volume.parent])
    assert found == volume


@pytest.mark.parametrize("args, message", [
    (["--board", "pico-arducam-ov2640", "--firmware", "{img}", "--volume", "{tmp}/empty"], "not in BOOTSEL mode"),
    (["--board", "pico-arducam-ov2640", "--firmware", "{tmp}/missing.uf2"], "no such image file"),
    (["--board", "pico-arducam-ov2640"], "no image file: pass --firmware FILE"),
    (["--board", "pico-arducam-ov2640", "--firmware", "{bin}"], "is not a UF2 image"),
    (["--board", "pico-arducam-ov2640", "--firmware", "{esp_uf2}", "--volume", "{vol}"], "UF2 family 0x1c5f21b0"),
    (["--board", "esp32-cam-ai-thinker", "--firmware", "{img}", "--port", "/dev/ttyUSB0"], "not an ESP32 firmware"),
    (["--board", "esp32-cam-ai-thinker", "--firmware", "{bin}"], "--port is required"),
    (["--board", "esp32-cam-ai-thinker", "--firmware", "{bin}", "--port", "/dev/ttyNOPE"], "no such port"),
    (["--board", "openmv-h7-plus", "--firmware", "{bin}"], "OpenMV IDE"),
    (["--board", "pico-w", "--firmware", "{img}"], "unknown board 'pico-w'"),
])
def test_flash_refusals_are_clear(tmp_path: Path, volume: Path, capsys, args: list[str], message: str) -> None:
    (tmp_path / "empty").mkdir()
    bin_ = tmp_path / "mp.bin"
    bin_.write_bytes(b"\xe9" + bytes(600))
    names = {"tmp": tmp_path, "img": uf2(tmp_path / "mp.uf2"), "bin": bin_, "vol": volume,
             "esp_uf2": uf2(tmp_path / "s3.uf2", family=0x1C5F21B0)}
    assert main(["flash", *[a.format(**names) for a in args]]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert [p.name for p in volume.iterdir()] == ["INFO_UF2.TXT"]


def test_a_volume_of_another_uf2_board_is_not_written(tmp_path: Path, capsys) -> None:
    other = tmp_path / "RPI-RP2"
    other.mkdir()
    (other / "INFO_UF2.TXT").write_text("UF2 Bootloader v1.0\nModel: Adafruit Feather\nBoard-ID: SAMD21\n")
    assert main(["flash", "--board", "pico-arducam-ov2640", "--firmware", str(uf2(tmp_path / "a.uf2")),
                 "--volume", str(other)]) == 2
    assert "not a RPI-RP2/RP2350 one" in capsys.readouterr().err
    assert not (other / "a.uf2").exists()
