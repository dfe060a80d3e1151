"""The outbox file on littlefs (the file system MicroPython puts on a Pico's or an ESP32's flash), power cut
at every flash operation of a save: at boot the reader finds the outbox as it was before the save or as it
is after it, never a mix, never a damaged record.

littlefs-python wraps the same C library as MicroPython's `vfs.VfsLfs2`, with MicroPython's geometry
(4 KB blocks, 32-byte read/prog units). The flash is a byte array: a save is run once while every prog and
erase is recorded, then for each k the first k operations are replayed onto the flash as it was before
the save, plus the (k+1)-th torn in the middle (a NOR prog or erase cut short), and the reader boots on it.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from firmware import outbox_file, protocol as P

littlefs = pytest.importorskip("littlefs")

GEOMETRY = {"block_size": 4096, "block_count": 64, "read_size": 32, "prog_size": 32, "lookahead_size": 32}
PATH = "/outbox.bin"


class Flash(littlefs.UserContext):
    """NOR flash as a byte array; while `ops` is a list, every prog and erase is appended to it."""

    def __init__(self, buffer: bytearray) -> None:
        super().__init__(buffer=buffer)
        self.ops: list[tuple[int, bytes]] | None = None

    def prog(self, cfg, block: int, off: int, data: bytes) -> int:
        if self.ops is not None:
            self.ops.append((block * cfg.block_size + off, bytes(data)))
        return super().prog(cfg, block, off, data)

    def erase(self, cfg, block: int) -> int:
        if self.ops is not None:
            self.ops.append((block * cfg.block_size, b"\xff" * cfg.block_size))
        return super().erase(cfg, block)


def mount(monkeypatch, flash: bytearray) -> Flash:
    """Mount littlefs on `flash` and point the firmware's file calls at it, as MicroPython's VFS would."""
    ctx = Flash(flash)
    fs = littlefs.LittleFS(context=ctx, mount=True, **GEOMETRY)

    def call(fn, *args):
        try:
            return fn(*args)
        except littlefs.LittleFSError as exc:      # MicroPython's VFS raises OSError(errno)
            raise OSError(-exc.code, str(exc)) from None

    monkeypatch.setattr(outbox_file, "open", lambda path, mode="r": call(fs.open, path, mode), raising=False)
    monkeypatch.setattr(outbox_file, "os", SimpleNamespace(remove=lambda p: call(fs.remove, p),
                                                           rename=lambda a, b: call(fs.rename, a, b)))
    return ctx


def outbox(*seqs: int) -> P.Outbox:
    box = P.Outbox(reader=7)
    for seq in seqs:
        box.add(seq, b"READ-%d|" % seq + bytes(range(256)) * 2, "qr", "quirc", 1000 + seq)
    return box


def boot(monkeypatch, flash: bytearray) -> tuple[list[int], list[str]]:
    """What a reader booting on this flash restores: the waiting seqs in order, and the problems reported."""
    mount(monkeypatch, flash)
    box = P.Outbox(reader=7)
    errors = outbox_file.load(box, PATH)
    return [seq for seq, *_ in box.records()], errors


def cuts(before: bytearray, ops: list[tuple[int, bytes]]):
    """The flash after a power cut at each point of the save: k operations done, the next one torn."""
    for k in range(len(ops) + 1):
        flash = bytearray(before)
        for addr, data in ops[:k]:
            flash[addr:addr + len(data)] = data
        yield flash
        if k < len(ops):
            addr, data = ops[k]
            torn = bytearray(flash)
            torn[addr:addr + len(data) // 2] = data[:len(data) // 2]
            yield torn


@pytest.mark.parametrize("before, after", [
    ((), (1, 2)),                   # the first reads queued: no file yet
    ((1, 2), (1, 2, 3)),            # a read queued (saved before it is sent)
    ((1, 2, 3), (3,)),              # ACKs removed two
    ((1, 2, 3), ()),                # the last ACK: the file goes
], ids=["first", "queued", "acked", "emptied"])
def test_a_power_cut_anywhere_in_a_save_leaves_the_outbox_before_or_after_it(monkeypatch, before, after) -> None:
    flash = bytearray(b"\xff" * GEOMETRY["block_size"] * GEOMETRY["block_count"])
    littlefs.LittleFS(context=littlefs.UserContext(buffer=flash), **GEOMETRY)     # formatted, as `vfs` does
    mount(monkeypatch, flash)
    outbox_file.save(outbox(*before), PATH)
    start = bytearray(flash)
    ctx = mount(monkeypatch, flash)
    ctx.ops = []
    outbox_file.save(outbox(*after), PATH)
    assert ctx.ops, "the save wrote nothing to flash"
    seen = set()
    for state in cuts(start, ctx.ops):
        seqs, errors = boot(monkeypatch, state)
        assert errors == [] and seqs in (list(before), list(after)), (seqs, errors)
        seen.add(tuple(seqs))
    assert seen == {before, after}                  # both outcomes happen: the cut points span the commit


@pytest.mark.micropython
@pytest.mark.parametrize("before, after", [((), (1, 2)), ((1, 2), (1, 2, 3)), ((1, 2, 3), (3,)), ((1, 2, 3), ())],
                         ids=["first", "queued", "acked", "emptied"])
def test_on_micropythons_own_littlefs_a_power_cut_anywhere_leaves_the_outbox_before_or_after(before, after) -> None:
    """The same cuts on the MicroPython unix port: `vfs.VfsLfs2` (the code a board runs) over a NOR-flash block
    device written in MicroPython (tests/helpers/mpy/outbox_lfs_cuts.py), the firmware's own open/rename/remove."""
    import subprocess

    from conftest import REPO
    from host_bridge.testbench import unix_port
    arg = lambda seqs: ",".join(map(str, seqs))  # noqa: E731
    proc = subprocess.run(unix_port.argv("2m", str(REPO / "tests" / "helpers" / "mpy" / "outbox_lfs_cuts.py"), arg(before), arg(after)),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    ops = int(lines[0].split()[1])
    assert ops > 0, "the save wrote nothing to flash"
    booted = [line.split(" ", 3)[3].partition("|") for line in lines[1:]]
    assert len(booted) == 2 * ops + 1                       # each op done, and torn halfway; then all done
    seen = set()
    for seqs, _, errors in booted:
        got = tuple(int(s) for s in seqs.split(",") if s)
        assert errors == "" and got in (before, after), (seqs, errors)
        seen.add(got)
    assert seen == {before, after}
