"""The real firmware (virtual reader: `firmware/on_host.py` in a child process, on-board decoding) shown the
hostile codes: in `hid` mode it types only what a keyboard may type; in `framed` mode, through a link that
drops, flips and duplicates bytes both ways, every read reaches the host exactly once."""

from __future__ import annotations

import base64
import importlib.util
import random
import subprocess
from pathlib import Path

import pytest

from conftest import REPO
from host_bridge.testbench import virtual_reader as vr
from host_bridge.link.reader_link import ReaderLink
from wedge import wedge_text


def _tool(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


hostile, reliability = _tool("hostile_codes"), _tool("reliability")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Path], dict[str, bytes]]:
    out = tmp_path_factory.mktemp("hostile")
    manifest = hostile.write(out)
    return [out / e["file"] for e in manifest], {e["file"]: base64.b64decode(e["bytes_b64"]) for e in manifest}


def _run(images: list[Path], mode: str, drain_ms: int, on_link=None) -> tuple[bytes, ReaderLink | None]:
    with vr.frames_dir() as tmp:
        assert vr.write_frames(images, Path(tmp)) == {}
        cmd = vr.command("cpython", Path(tmp), mode, decode="auto", drain_ms=drain_ms)
        if mode != "framed":
            return subprocess.run(cmd, capture_output=True, stdin=subprocess.DEVNULL, timeout=120, check=True).stdout, None
        with subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as proc:
            link = on_link(vr.PipeStream(proc))
            link.run()
            proc.stdin.close()  # type: ignore[union-attr]
        return b"", link


def test_hid_types_only_printable_reads_each_on_its_own_line(corpus) -> None:
    images, payloads = corpus
    typed, _ = _run(images, "hid", 1000)
    text = typed.decode("utf-8")
    assert all(ch.isprintable() or ch == "\n" for ch in text)          # no control key, whatever was shown
    typeable = {t for t in map(wedge_text, payloads.values()) if t is not None}
    assert set(text.splitlines()) == typeable and len(text.splitlines()) == len(typeable)


class FaultyStream:
    """The child's pipe with byte faults (drop, flip, duplicate, cut) in both directions."""

    def __init__(self, inner: vr.PipeStream, rng: random.Random, rate: float) -> None:
        self.inner = inner
        self.up, self.down = reliability.ByteFaults(rng, rate), reliability.ByteFaults(rng, rate)

    def read(self, size: int) -> bytes:
        data = self.inner.read(size)
        return self.up.apply(data) or (b"\x00" if data else b"")    # empty only at the real end of stream

    def write(self, data: bytes) -> None:
        self.inner.write(self.down.apply(data))


def test_framed_reads_arrive_exactly_once_through_a_faulty_link(corpus) -> None:
    images, _ = corpus
    images = [i for i in images if not i.name.startswith("huge-")]    # 3 KB frames rarely cross a 0.1 % fault rate
    clean: list[bytes] = []
    _run(images, "framed", 5000, lambda s: ReaderLink(s, lambda r, q, d, m: clean.append(d)))
    assert len(clean) >= 10
    got: list[bytes] = []
    streams: list[FaultyStream] = []

    def faulty(stream: vr.PipeStream) -> ReaderLink:
        streams.append(FaultyStream(stream, random.Random(8), 0.001))
        return ReaderLink(streams[0], lambda r, q, d, m: got.append(d))
    _, link = _run(images, "framed", 30000, faulty)
    assert streams[0].up.injected + streams[0].down.injected > 0 and sum(link.errors.values()) > 0
    print(f"\nfirmware framed through faults: {len(got)} reads, {streams[0].up.injected + streams[0].down.injected} "
          f"faults injected, {sum(link.errors.values())} bad frames, {link.stats['duplicates']} resends dropped")
    assert sorted(got) == sorted(clean)                                # none lost, none duplicated


def test_framed_simulator_exits_cleanly_after_its_reads_are_acknowledged(corpus) -> None:
    images, _ = corpus
    with vr.frames_dir() as tmp:
        vr.write_frames(images[:2], Path(tmp))
        cmd = vr.command("cpython", Path(tmp), "framed", decode="auto", drain_ms=5000)
        with subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
            ReaderLink(vr.PipeStream(proc), lambda *a: None).run()
            code = proc.wait(timeout=30)
            err = proc.stderr.read()  # type: ignore[union-attr]
    assert code == 0, err[-300:]
