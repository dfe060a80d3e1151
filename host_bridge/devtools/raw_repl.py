"""Entering a board's raw REPL within a few seconds, and saying what is on the port when it is not a REPL.

mpremote's `enter_raw_repl` drains the port until it is quiet (forever, if the device never stops talking) and,
on a pseudo-terminal, blocks in `read(1)` while the device is silent: a running reader, a line-mode reader or
any other device made `electeur deploy`/`selftest --board` hang until killed. This is the same handshake
(Ctrl-C, Ctrl-A, Ctrl-D soft reset, as MicroPython's pyboard.py) with a deadline on every step; on failure the
bytes the port sent are described in one line with what to do, as esptool does for "no serial data received".
"""

from __future__ import annotations

import time
from typing import Any

import serial

from firmware import protocol as P
from host_bridge.errors import UserError

BANNER = b"raw REPL; CTRL-B to exit\r\n"
SOFT_REBOOT = b"soft reboot\r\n"
HANDSHAKE_S = 3.0    # a board at its REPL answers Ctrl-A in milliseconds; a busy one gets a few seconds
REBOOT_S = 10.0      # the soft reset runs boot.py (a USB keyboard registering takes a moment)
ASK_S = 1.0          # after the handshake failed: how long a reader gets to answer CONFIG_GET
SEEN_MAX = 64 * 1024


def _collect(ser: serial.SerialBase, seconds: float, seen: bytearray, *endings: bytes) -> bool:
    """Append what the port sends to `seen` for `seconds`, or until it has sent `endings` in order (then True).

    Waiting for endings reads byte by byte, as mpremote does: the prompt after them belongs to mpremote's exec."""
    deadline, start = time.monotonic() + seconds, len(seen)
    while time.monotonic() < deadline:
        chunk = ser.read(1 if endings else max(1, min(int(getattr(ser, "in_waiting", 1)), 4096)))
        seen += chunk
        if endings and chunk and seen.endswith(endings[-1]) and _in_order(bytes(seen[start:]), endings):
            return True
    del seen[:-SEEN_MAX]
    return False


def _in_order(data: bytes, endings: tuple[bytes, ...]) -> bool:
    at = 0
    for ending in endings:
        found = data.find(ending, at)
        if found < 0:
            return False
        at = found + len(ending)
    return True


def enter(ser: serial.SerialBase, port: str, timeout_s: float = HANDSHAKE_S) -> None:
    """Put the board into the raw REPL after a soft reset, or raise a one-line UserError describing the port."""
    saved, ser.timeout = ser.timeout, 0.05      # never block: a silent port must let the deadline pass
    seen = bytearray()
    try:
        ser.write(b"\r\x03\x03")                # Ctrl-C: interrupt a running program
        _collect(ser, 0.2, seen)                # what it was saying, kept for the diagnosis
        ser.write(b"\r\x01")                    # Ctrl-A: raw REPL
        if not _collect(ser, timeout_s, seen, BANNER + b">"):
            ser.write(b"\x00" + P.config_get())  # not a REPL; 0x00 ends our control bytes as a frame would
            _collect(ser, ASK_S, seen)
            raise UserError(describe(port, bytes(seen), timeout_s))
        ser.write(b"\x04")                      # Ctrl-D: soft reset, so the code runs on a clean heap
        if not _collect(ser, REBOOT_S, bytearray(), SOFT_REBOOT, BANNER):
            raise UserError(f"the board on {port} entered the raw REPL but did not come back from its soft reset "
                            f"within {REBOOT_S:g} s (boot.py stuck?): press its reset button and try again")
    except (serial.SerialException, OSError) as exc:
        raise UserError(f"{port} went away during the raw REPL handshake ({exc}): the board reset or was "
                        "unplugged; plug it in and run the command again") from None
    finally:
        try:
            ser.timeout = saved
        except (serial.SerialException, OSError):
            pass


def leave(ser: serial.SerialBase) -> None:
    """Hand the board back as found after a refusal: leave the raw REPL and soft-reset, so main.py runs again."""
    try:
        ser.write(b"\r\x02\x04")
        ser.flush()
    except (serial.SerialException, OSError):
        pass


def describe(port: str, seen: bytes, waited_s: float) -> str:
    """One line: what answered on `port` instead of a MicroPython raw REPL, and what to do about it."""
    head = f"no MicroPython raw REPL on {port} within {waited_s:g} s"
    messages = P.Decoder().feed(seen)
    if messages:
        hello: dict[str, Any] = next((m.json() for m in messages if m.type in (P.HELLO, P.CONFIG) and m.json().get("board")), {})
        board = hello.get("board")
        said = ", ".join(sorted({P.NAMES.get(m.type, hex(m.type)) for m in messages}))
        if board == "sim":
            return (f"{head}: the virtual reader (electeur sim) is speaking the e-lecteur protocol there ({said}); "
                    f"it has no REPL: `electeur selftest --port {port}` checks it as it is")
        return (f"{head}: a running e-lecteur reader is speaking the framed protocol there "
                f"({'board ' + board + ', ' if board else ''}{said}) and kept the line: "
                f"`electeur selftest --port {port}` checks it as it is; to deploy, re-flash MicroPython "
                "(electeur flash ... --erase) and deploy again")
    if not seen:
        return (f"{head}: the port stayed silent (no MicroPython, a board in its bootloader, or a reader in "
                "line or hid output with no code in view): press the board's reset button and try again; if it stays silent, flash "
                "MicroPython (electeur flash) and check the port (electeur devices)")
    if b">>> " in seen or b"MicroPython" in seen:
        return (f"{head}: a MicroPython REPL answers but did not enter the raw REPL ({len(seen)} bytes seen): "
                "close other programs using the port (Thonny, mpremote, a serial terminal) and try again")
    try:
        text = seen.decode("utf-8")
    except UnicodeDecodeError:
        text = "\x00"
    lines = [line for line in text.replace("\r", "\n").split("\n") if line]
    if "\n" in text and lines and all(line.isprintable() for line in lines):
        return (f"{head}: a device is printing lines of text there ({len(lines)} line(s), not shown: a reader's "
                "codes carry patient data), as a reader in line output does, and kept the line: to deploy, "
                "re-flash MicroPython (electeur flash ... --erase) and deploy again")
    return (f"{head}: an unknown device answers ({len(seen)} bytes, neither a MicroPython REPL nor the e-lecteur "
            f"protocol, starting {seen[:8].hex(' ')}): check that {port} is the reader (electeur devices)")
