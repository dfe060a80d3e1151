# Run under the MicroPython unix port (tests/test_firmware_outbox_littlefs.py): the outbox file on MicroPython's
# own littlefs (vfs.VfsLfs2) over a NOR-flash block device written here, power cut at every flash operation of
# one save. Prints one line per cut: "cut K SEQS|ERRORS" (seqs the reader restores at boot on that flash).
#   outbox_lfs_cuts.py BEFORE AFTER     (comma-separated seqs, possibly empty)
import sys
import vfs

from firmware import outbox_file, protocol as P

BLOCK = 4096
COUNT = 64
MOUNT = "/flash"
PATH = MOUNT + "/outbox.bin"


class Flash:
    """NOR flash in RAM with MicroPython's extended block protocol; while `ops` is a list, every prog and
    erase is appended to it as (address, bytes written)."""

    def __init__(self):
        self.mem = bytearray(b"\xff" * (BLOCK * COUNT))
        self.ops = None

    def readblocks(self, block, buf, off=0):
        a = block * BLOCK + off
        buf[:] = self.mem[a:a + len(buf)]

    def writeblocks(self, block, buf, off=0):
        a = block * BLOCK + off
        if self.ops is not None:
            self.ops.append((a, bytes(buf)))
        self.mem[a:a + len(buf)] = buf

    def ioctl(self, op, arg):
        if op == 4:                     # block count
            return COUNT
        if op == 5:                     # block size
            return BLOCK
        if op == 6:                     # erase a block
            if self.ops is not None:
                self.ops.append((arg * BLOCK, b"\xff" * BLOCK))
            self.mem[arg * BLOCK:(arg + 1) * BLOCK] = b"\xff" * BLOCK
            return 0
        return 0                        # init, deinit, sync


def outbox(seqs):
    box = P.Outbox(7)
    for seq in seqs:
        box.add(seq, b"READ-%d|" % seq + bytes(range(256)) * 2, "qr", "quirc", 1000 + seq)
    return box


def mount(flash):
    try:
        vfs.umount(MOUNT)
    except OSError:
        pass
    vfs.mount(vfs.VfsLfs2(flash, readsize=32, progsize=32, lookahead=32), MOUNT)


def boot(flash):
    """What a reader booting on this flash restores: (seqs, problems)."""
    mount(flash)
    box = P.Outbox(7)
    errors = outbox_file.load(box, PATH)
    return [r[0] for r in box.records()], errors


def seqs(arg):
    return [int(s) for s in arg.split(",") if s]


before, after = seqs(sys.argv[1]), seqs(sys.argv[2])
flash = Flash()
vfs.VfsLfs2.mkfs(flash, readsize=32, progsize=32, lookahead=32)
mount(flash)
outbox_file.save(outbox(before), PATH)
start = bytearray(flash.mem)
mount(flash)
flash.ops = []
outbox_file.save(outbox(after), PATH)
ops = flash.ops
flash.ops = None
print("ops", len(ops))
for k in range(len(ops) + 1):
    flash.mem[:] = start
    for a, data in ops[:k]:
        flash.mem[a:a + len(data)] = data
    done = bytearray(flash.mem)
    got = boot(flash)
    print("cut", k, "done", ",".join(str(s) for s in got[0]) + "|" + ";".join(got[1]))
    if k < len(ops):
        a, data = ops[k]
        flash.mem[:] = done
        flash.mem[a:a + len(data) // 2] = data[:len(data) // 2]
        got = boot(flash)
        print("cut", k, "torn", ",".join(str(s) for s in got[0]) + "|" + ";".join(got[1]))
vfs.umount(MOUNT)
