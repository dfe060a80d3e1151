"""The paired reader <-> bridge link (issue 13, item 2): only a host holding the reader's key gets its reads,
ACKs them or configures it; only a reader holding it gets reads journaled; tampered and replayed frames fail."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
from reader_doubles import HostPort

from firmware import config, secure
from firmware import protocol as P
from firmware.hmac256 import fingerprint
from firmware.hmac256 import hmac as hmac256
from firmware.secure_port import SecurePort
from host_bridge.bridge.pairing import PairingStore, pair_over_usb
from host_bridge.link.reader_link import ReaderLink
from host_bridge.testbench import link_attacks as la
from host_bridge.testbench import virtual_reader as vr

KEY = bytes(range(32))


@pytest.mark.parametrize("key_len,msg_len", [(0, 0), (16, 1), (32, 55), (64, 64), (65, 200), (100, 1000)])
def test_hmac_sha256_equals_pythons_hmac(key_len: int, msg_len: int) -> None:
    key, msg = os.urandom(key_len), os.urandom(msg_len)
    assert hmac256(key, msg[:msg_len // 2], msg[msg_len // 2:]) == hmac.new(key, msg, hashlib.sha256).digest()


def test_a_lan_stranger_connecting_first_gets_no_read_acks_none_away_and_the_bridge_gets_them_all(tmp_path) -> None:
    fig = la.stranger_first(tmp_path, reads=2)
    assert fig["reads_obtained"] == 0 and fig["received"] == ["AUTH_CHALLENGE"]     # not even a HELLO
    assert fig["reads_left_on_the_reader"] == 2                                      # its ACKs did nothing
    assert fig["config_set_accepted"] == 0                                           # nor its CONFIG_SET
    assert fig["bridge_got_all_in_order"]


def test_an_unpaired_reader_on_the_network_sends_nothing(tmp_path) -> None:
    fig = la.unpaired_reader(tmp_path)
    assert fig["received"] == [] and fig["reads_left_on_the_reader"] == 1


def test_a_stranger_that_does_not_authenticate_is_hung_up_on_so_the_bridge_can_connect(tmp_path) -> None:
    import socket
    reader = la.TcpReader([b"R-1"], KEY, tmp_path)
    reader.out.port.timeout_ms = 300
    try:
        with socket.create_connection(("127.0.0.1", reader.port)) as idle:      # connects and says nothing
            idle.settimeout(5)
            data = b""
            while chunk := idle.recv(4096):
                data += chunk                   # challenges, then the reader closes
        assert {m.type for m in P.Decoder().feed(data)} == {P.AUTH_CHALLENGE}
        assert la.paired_host(reader.port, KEY, 1) == [b"R-1"]
    finally:
        reader.close()


def paired_pair(key: bytes = KEY, host_key: bytes = KEY) -> tuple[SecurePort, HostPort, ReaderLink, list[bytes]]:
    """A reader's SecurePort over an in-memory port, and a host link that ran the handshake with it."""
    port = HostPort()
    sp = SecurePort(port, key, 1)
    got: list[bytes] = []

    class Wire:
        def read(self, n: int) -> bytes:
            data, port.written = port.written, b""
            return data

        def write(self, data: bytes) -> None:
            port.inbox += data
    link = ReaderLink(Wire(), lambda r, s, p, m: got.append(p), keys=lambda rid: host_key)
    for _ in range(3):
        sp.read()
        link.poll()
    return sp, port, link, got


def test_the_handshake_needs_the_same_key_on_both_ends() -> None:
    sp, _, link, _ = paired_pair()
    assert sp.ready() and link.authenticated
    sp, _, link, _ = paired_pair(host_key=bytes(32))
    assert not sp.ready() and not link.authenticated and sp.refused >= 1
    port = HostPort()
    sp = SecurePort(port, KEY, 5)
    sp.read()
    link = ReaderLink(port, lambda *a: None, keys=lambda rid: None)    # this host never paired reader 5
    link.feed(port.written)
    assert not link.authenticated and "reader 5 is not paired with this host" in (link.auth_error or "")


def test_tampered_replayed_and_reflected_frames_are_rejected_both_ways() -> None:
    sp, port, link, got = paired_pair()
    sp.write(P.read(1, 7, b"NIR 1 85 05 78 006 084 36", "qr", "t", 5))
    sealed = port.written
    assert b"NIR" not in sealed                          # encrypted on the wire
    msg = P.Decoder().feed(sealed)[0]
    body = bytearray(msg.payload)
    body[3] ^= 0x01                                      # one bit of the ciphertext, CRC recomputed
    link.feed(P.encode(P.SEALED, msg.seq, bytes(body), 1))
    assert got == [] and link.stats["refused"] == 1
    link.feed(sealed)                                    # genuine: delivered, ACKed (sealed)
    link.feed(sealed)                                    # replayed: refused, not delivered twice
    assert got == [b"NIR 1 85 05 78 006 084 36"] and link.stats["refused"] == 2
    ack = port.inbox                                     # the host's sealed ACK
    assert [m.type for m in P.Decoder().feed(sp_plain(sp, ack))] == [P.ACK]
    assert sp_plain(sp, ack) == b"" and sp.rejected == 1            # replayed to the reader: ignored
    assert sp_plain(sp, sealed) == b"" and sp.rejected == 2         # its own frame reflected back: ignored
    assert sp_plain(sp, P.ack(1, 7) + P.config_set(1, {"name": "x"})) == b"" and sp.rejected == 4   # plain


def sp_plain(sp: SecurePort, wire: bytes) -> bytes:
    """What the reader's output gets from `wire` arriving on its port."""
    sp.port.inbox = wire
    return sp.read()


def test_config_set_from_a_peer_without_the_key_is_refused_and_not_saved(tmp_path) -> None:
    reader = la.TcpReader([], KEY, tmp_path)
    try:
        la.stranger(reader.port, listen_s=0.2)
        assert not reader.config_changed() and reader.out.cfg["output"] == "tcp"
    finally:
        reader.close()


def test_the_pairing_key_is_never_sent_back_nor_set_over_the_network() -> None:
    from firmware import board
    from firmware.outputs.framed import FramedOutput
    cfg = config.defaults() | {"pair_key": KEY.hex()}
    sp, _, link, _ = paired_pair()
    out = FramedOutput(sp, cfg, board.SIM)
    out.pairs = False                                    # as TcpOutput
    out.config_path = os.devnull
    replies: list[P.Message] = []
    link.on_message = replies.append
    link.send(P.config_get(1))
    link.send(P.config_set(1, {"pair_key": "00" * 32}))
    out.poll()
    link.poll()
    conf = next(m.json() for m in replies if m.type == P.CONFIG)
    assert "pair_key" not in conf and conf["paired"] == fingerprint(KEY)
    assert KEY.hex() not in json.dumps(conf)
    errors = [m.json()["message"] for m in replies if m.type == P.ERROR]
    assert errors == ["pair_key is set over USB only (electeur pair)"] and cfg["pair_key"] == KEY.hex()


def test_pair_key_validation() -> None:
    assert config.check("pair_key", "") is None and config.check("pair_key", KEY.hex()) is None
    assert "64 lowercase hex" in config.check("pair_key", "zz" * 32)
    assert "64 lowercase hex" in config.check("pair_key", "ab")


def test_pairing_store_is_private_and_atomic(tmp_path) -> None:
    store = PairingStore(tmp_path / "cfg" / "pairings.json")
    store.add(3, KEY, "comptoir", "sim")
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.path.parent.stat().st_mode) == 0o700
    assert store.key(3) == KEY and store.key(4) is None
    assert store.readers()[3]["fingerprint"] == fingerprint(KEY) and "key" not in store.readers()[3]
    assert store.remove(3) and store.key(3) is None
    store.path.write_text("{broken")
    assert store.key(3) is None                          # refused (logged), never a crash


@pytest.mark.slow
def test_forged_reads_from_a_fake_reader_endpoint_are_never_journaled(tmp_path) -> None:
    fig = la.fake_endpoint(tmp_path, n=200)
    assert fig["forged_sent"] >= 600 and fig["forged_journaled"] == 0
    assert "not the paired reader" in (fig["bridge_said"] or "")
    assert fig["genuine_journaled_after"] == 2           # the same bridge does take the paired reader's reads


def run_virtual_reader(runtime: str, frames: Path, host_keys, secure_link: bool = True) -> tuple[list[bytes], ReaderLink, str]:
    cmd = vr.command(runtime, frames, "framed", decode="board", drain_ms=3000) + ["--secure"] * secure_link
    got: list[bytes] = []
    with subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        link = ReaderLink(vr.PipeStream(proc), lambda r, s, p, m: got.append(p), keys=host_keys)
        link.run()
        proc.stdin.close()  # type: ignore[union-attr]
        err = proc.stderr.read().decode("utf-8", "replace")  # type: ignore[union-attr]
        proc.wait()
    return got, link, err


@pytest.mark.micropython
@pytest.mark.parametrize("runtime", vr.RUNTIMES)
def test_pairing_over_usb_then_the_paired_link_on_the_virtual_reader(runtime: str, tmp_path) -> None:
    from host_bridge.testbench.fault_rig import write_codes
    frames = tmp_path / "frames"
    frames.mkdir()
    vr.write_frames(sorted(write_codes(tmp_path / "codes", [b"PAIRED-1", b"PAIRED-2"]).glob("*.png")), frames)
    store = PairingStore(tmp_path / "pairings.json")
    # 1. USB: `electeur pair`'s procedure against the firmware in framed mode
    cmd = vr.command(runtime, frames, "framed", decode="board", idle=True, drain_ms=0)
    with subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        info = pair_over_usb(vr.PipeStream(proc), store, output="framed", timeout_s=60)
        proc.stdin.close()  # type: ignore[union-attr]
        proc.wait(60)
    assert info["reader"] == 1 and info["fingerprint"] == fingerprint(store.key(1))
    if runtime == "micropython":                         # its filesystem lives in memory: as saved on CPython
        (frames / "config.json").write_text(json.dumps({"pair_key": store.key(1).hex()}))  # type: ignore[union-attr]
    assert json.loads((frames / "config.json").read_text())["pair_key"] == store.key(1).hex()  # type: ignore[union-attr]
    # 2. the paired link: the bridge's key gets the reads, sealed; another key gets nothing
    got, link, err = run_virtual_reader(runtime, frames, store.key)
    assert got == [b"PAIRED-1", b"PAIRED-2"], err
    got, link, _ = run_virtual_reader(runtime, frames, lambda rid: bytes(32))
    assert got == [] and link.stats["refused"] >= 1 and "did not accept this host's proof" in (link.auth_error or "")


@pytest.mark.micropython
def test_hmac_and_sealing_under_micropython_equal_cpython(tmp_path) -> None:
    from tests.helpers.micropython import run_micropython
    script = ("from firmware.hmac256 import hmac\n"
              "from firmware import secure as S, protocol as P\n"
              "k = bytes(range(32)); m = bytes(range(256)) * 3\n"
              "print(hmac(k, m).hex(), hmac(bytes(100), b'').hex())\n"
              "s = S.Session(S.Hmac(k), b'T', 1, False)\n"
              "print(s.seal(P.read(1, 7, b'NIR', 'qr', 'q', 5)).hex())\n")
    proc = run_micropython(script, tmp_path)
    assert proc.returncode == 0, proc.stderr.decode()
    macs, sealed = proc.stdout.decode().split("\n")[:2]
    m = bytes(range(256)) * 3
    assert macs == f"{hmac.new(KEY, m, hashlib.sha256).hexdigest()} {hmac.new(bytes(100), b'', hashlib.sha256).hexdigest()}"
    host = secure.Session(secure.Hmac(KEY), b"T", 1, True)
    opened, _ = host.open(P.Decoder().feed(bytes.fromhex(sealed))[0])
    assert P.parse_read(opened)[0] == b"NIR"


def test_electeur_pair_over_the_virtual_readers_usb_port(tmp_path) -> None:
    """What a pharmacist runs: `electeur pair PORT` against the reader on its (pseudo-)USB port, then --list, --forget."""
    import sys
    import time

    from host_bridge.testbench.fault_rig import write_codes
    flash = tmp_path / "flash"
    flash.mkdir()
    conf = tmp_path / "electeur.toml"
    conf.write_text(f'pairings = "{tmp_path / "private" / "pairings.json"}"\n')
    electeur = [sys.executable, "-m", "host_bridge.cli"]
    sim = subprocess.Popen(electeur + ["sim", "--images", str(write_codes(tmp_path / "codes", [b"WAITING-1"])),
                                       "--pty", "--show-ms", "0", "--flash", str(flash)],
                           stdout=subprocess.PIPE, text=True)
    try:
        port = sim.stdout.readline().strip()  # type: ignore[union-attr]
        t = time.monotonic()
        pair = subprocess.run(electeur + ["pair", port, "--config", str(conf)], capture_output=True, text=True,
                              timeout=60, check=False)
        took = time.monotonic() - t
    finally:
        sim.terminate()
        sim.wait(10)
    assert pair.returncode == 0, pair.stderr
    store = PairingStore(tmp_path / "private" / "pairings.json")
    key = store.key(1)
    assert key is not None and stat.S_IMODE(store.path.stat().st_mode) == 0o600
    fp = fingerprint(key)
    assert pair.stdout.startswith(f"reader 1 (sim) paired: key {fp}, stored in {store.path}\n")
    assert "unplug it, power it on Wi-Fi" in pair.stdout and key.hex() not in pair.stdout + pair.stderr
    saved = json.loads((flash / "config.json").read_text())
    assert saved["pair_key"] == key.hex() and saved["output"] == "tcp"          # the reader's next start: Wi-Fi
    assert took < 30
    listed = subprocess.run(electeur + ["pair", "--list", "--config", str(conf)], capture_output=True, text=True, check=True)
    assert json.loads(listed.stdout)["fingerprint"] == fp and key.hex() not in listed.stdout
    forget = subprocess.run(electeur + ["pair", "--forget", "1", "--config", str(conf)], capture_output=True,
                            text=True, check=False)
    assert forget.returncode == 0 and store.key(1) is None


@pytest.mark.slow
def test_the_bridge_says_when_a_wifi_reader_is_not_paired(tmp_path) -> None:
    from host_bridge.testbench.fault_rig import Bridge, wait_until
    reader = la.TcpReader([b"UNPAIRED-1"], None, tmp_path)
    bridge = Bridge(tmp_path, f"tcp://127.0.0.1:{reader.port}", f'pairings = "{tmp_path / "pairings.json"}"\n')

    def said() -> str:
        return ((bridge.get("/api/devices") or {}).get("devices") or [{}])[0].get("error") or ""
    try:
        wait_until(lambda: "not paired (electeur pair)" in said(), 30, "the bridge naming an unpaired reader")
        assert bridge.lookups() == [] and reader.waiting() == 1
    finally:
        bridge.stop()
        reader.close()


@pytest.mark.micropython
def test_the_paired_link_costs_the_reader_little_heap() -> None:
    """`electeur bench pairing`'s MicroPython figures, bounded: the link's code and state, and one sealed READ."""
    from host_bridge.testbench.benches.pairing import micropython_figures
    mp = micropython_figures(3)
    assert mp is not None
    assert mp["import_bytes"] + mp["session_bytes"] < 16 * 1024              # of the ~58 KB left at the QVGA peak
    alloc = {n: seal for n, _, _, _, seal in mp["reads"]}
    assert alloc[300] < 16 * 1024                                             # garbage per sealed 2D-DOC-sized READ
