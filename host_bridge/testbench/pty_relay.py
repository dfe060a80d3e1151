"""The virtual reader's USB cable: relays the firmware's stdin/stdout to a pseudo-terminal that can be
unplugged and replugged while the firmware keeps running.

A real reader's USB device vanishes on unplug (reads on the host's open port fail, the /dev/serial/by-id
link goes away) and comes back, maybe under another /dev name, on replug; the board keeps its unacknowledged
reads and resends them. Here `unplug()` closes the pty (and removes the stable link), `plug()` opens a new
one (and points the link to it); bytes the firmware writes while unplugged are lost, as on a real cable.
"""

from __future__ import annotations

import errno
import os
import select
import subprocess
import threading
import time
from pathlib import Path
from typing import Callable

from host_bridge.errors import UserError


def open_pty() -> tuple[int, int, str]:
    """A raw pseudo-terminal: (master fd, slave fd, slave device path for the host)."""
    try:
        import pty
        import tty
    except ImportError:
        raise UserError("--pty needs a POSIX system (use stdout, or a virtual COM port pair on Windows)") from None
    master, slave = pty.openpty()
    tty.setraw(slave)
    tty.setraw(master)
    return master, slave, os.ttyname(slave)


def check_link(link: Path) -> None:
    """Refuse to replace anything but a symlink: `--pty-link` must not clobber a user's file."""
    if os.path.lexists(link) and not link.is_symlink():
        raise UserError(f"{link}: exists and is not a symlink (--pty-link replaces only a symlink)")
    if not link.parent.is_dir():
        raise UserError(f"{link.parent}: not a directory")


class PtyRelay:
    """Copies bytes between a child process's pipes and the current pty until the child exits."""

    def __init__(self, proc: subprocess.Popen, link: Path | None = None,
                 on_plug: Callable[[str], None] = lambda path: None) -> None:
        self.proc = proc
        self.link = link
        self.on_plug = on_plug
        self.fds: tuple[int, int] | None = None     # (master, slave) while plugged
        self.replug = threading.Event()
        self._out = b""                             # firmware bytes not yet taken by the pty

    def plug(self) -> str:
        master, slave, path = open_pty()
        os.set_blocking(master, False)
        self.fds = (master, slave)   # the slave stays open here, so the pty lives while no host has it open
        if self.link is not None:
            tmp = self.link.with_name(self.link.name + ".new")
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(path)
            os.replace(tmp, self.link)
        self.on_plug(path)
        return path

    def unplug(self) -> None:
        if self.link is not None:
            self.link.unlink(missing_ok=True)
        if self.fds is not None:
            for fd in self.fds:
                os.close(fd)
            self.fds = None
        self._out = b""

    def run(self, pause_s: float = 0.5) -> None:
        """Relay until the firmware exits; on `replug` (set from a signal handler) unplug, wait `pause_s`, plug."""
        child_out = self.proc.stdout.fileno()    # type: ignore[union-attr]
        child_in = self.proc.stdin.fileno()      # type: ignore[union-attr]
        try:
            while True:
                if self.replug.is_set():
                    self.replug.clear()
                    self.unplug()
                    time.sleep(pause_s)
                    self.plug()
                master = self.fds[0] if self.fds else None
                rlist = ([child_out] if not self._out else []) + ([master] if master is not None else [])
                wlist = [master] if self._out and master is not None else []
                readable, writable, _ = select.select(rlist, wlist, [], 0.1)
                if child_out in readable:
                    data = os.read(child_out, 65536)
                    if not data:
                        return
                    if master is not None:
                        self._out = data
                if master is not None and master in readable:
                    data = self._read_master(master)
                    if data:
                        try:
                            os.write(child_in, data)
                        except BrokenPipeError:
                            return          # the firmware has exited
                if master is not None and master in writable:
                    self._out = self._out[os.write(master, self._out):]
        finally:
            self.unplug()

    @staticmethod
    def _read_master(master: int) -> bytes:
        try:
            return os.read(master, 65536)
        except BlockingIOError:
            return b""
        except OSError as exc:
            if exc.errno == errno.EIO:
                return b""
            raise
