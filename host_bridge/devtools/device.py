"""A MicroPython board's raw REPL over a serial port (mpremote's transport), with errors a user can act on."""

from __future__ import annotations

import ast
import os
import time
from pathlib import Path
from typing import Any

import serial
from mpremote.transport import TransportError, TransportExecError
from mpremote.transport_serial import SerialTransport
from serial.tools import list_ports

from firmware import protocol as P
from host_bridge.devtools import raw_repl
from host_bridge.devtools.boards import board_names, load_board
from host_bridge.errors import UserError

RELEASE_WAIT_S = 3.0    # a reader answers RELEASE at its next poll: after the decode under way (about 1 s on a Pico)
BACK_S = 10.0           # a board reset by RELEASE is back at its REPL within this (USB re-enumeration included)


def reader_boards(vid: int | None, pid: int | None) -> list[str]:
    """Board profiles whose USB VID:PID (docs/getting-started-hardware.md) matches a port's."""
    return [name for name in board_names()
            if vid is not None and (int(load_board(name)["usb"]["vid"], 16), int(load_board(name)["usb"]["pid"], 16))
            == (vid, pid)]


def available_ports() -> str:
    """The serial ports the OS lists, each with the boards its USB IDs suggest, for error messages."""
    shown = []
    for port in list_ports.comports():
        boards = reader_boards(port.vid, port.pid)
        shown.append(f"{port.device} ({' or '.join(boards)})" if boards else port.device)
    return ", ".join(shown) if shown else "none found"


def check_port_exists(port: str) -> None:
    """A missing device path is the commonest mistake (wrong name, board unplugged): say so before opening."""
    if "://" not in port and os.name != "nt" and not Path(port).exists():
        raise UserError(f"no such port {port!r} (serial ports here: {available_ports()}); is the board plugged in?")


def take_back(port: str, wait_s: float = RELEASE_WAIT_S) -> bool:
    """Ask a running framed reader to hand its serial line back (RELEASE, docs/firmware.md): it answers, then
    resets into a boot that stays at the REPL. True when a reader answered; False when the line showed a REPL
    instead (the frame's 0x03 and 0x01 are Ctrl-C and Ctrl-A there: harmless) or nothing answered."""
    try:
        link = serial.serial_for_url(port, baudrate=115200, timeout=0.05)
    except (serial.SerialException, OSError) as exc:
        raise UserError(f"cannot open port {port!r}: {exc} (serial ports here: {available_ports()})") from exc
    decoder, tail = P.Decoder(), b""
    try:
        link.write(P.release())
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            data = link.read(4096)
            if any(m.type == P.RELEASE for m in decoder.feed(data)):
                return True
            tail = (tail + data)[-64:]
            if b"raw REPL" in tail or b">>> " in tail:
                link.write(b"\x02")    # the frame's 0x01 (Ctrl-A) entered the raw REPL: leave it as found
                return False
    except (serial.SerialException, OSError):
        return True                     # the port vanished under us: the board reset (USB re-enumerating)
    finally:
        link.close()
    return False


class Device:
    """An open raw-REPL session: `run` executes code on the board, `value` evaluates an expression."""

    def __init__(self, port: str, baud: int = 115200) -> None:
        check_port_exists(port)
        self.port = port
        released = take_back(port)
        deadline = time.monotonic() + (BACK_S if released else 0)
        while True:                     # after a hand-back reset the port may take a while to come back
            try:
                self._open(baud)
                return
            except UserError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.5)

    def _open(self, baud: int) -> None:
        port = self.port
        try:
            self.transport = SerialTransport(port, baudrate=baud)
        except TransportError as exc:
            raise UserError(f"cannot open port {port!r}: {exc} (serial ports here: {available_ports()})") from exc
        try:
            raw_repl.enter(self.transport.serial, port)
        except BaseException:
            self.close()
            raise
        self.transport.in_raw_repl = True

    def run(self, code: str) -> str:
        """Execute `code`; a device-side exception becomes a UserError carrying its last line."""
        try:
            return str(self.transport.exec(code).decode("utf-8", "replace"))
        except TransportExecError as exc:
            last = exc.error_output.strip().splitlines()[-1:] or ["?"]
            raise UserError(f"the board on {self.port} raised: {last[0]}") from exc
        except TransportError as exc:
            raise UserError(f"lost the raw REPL on {self.port}: {exc}") from exc

    def literal(self, code: str) -> Any:
        """Run `code`, which prints a Python literal last (drivers may print before it), and return that value."""
        out = (self.run(code).strip().splitlines() or [""])[-1]
        try:
            return ast.literal_eval(out)
        except (ValueError, SyntaxError) as exc:
            raise UserError(f"unexpected answer from the board on {self.port}: {out[:80]!r}") from exc

    def write_file(self, remote: str, data: bytes) -> None:
        try:
            self.transport.fs_writefile(remote, data, chunk_size=1024)
        except (TransportError, OSError) as exc:
            raise UserError(f"writing {remote} on {self.port} failed: {exc}") from exc

    def reset(self) -> None:
        """Hard-reset the board (machine.reset); the board drops the link, so do not wait for output."""
        self.transport.exec_raw_no_follow("import machine\nmachine.reset()")
        self.transport.in_raw_repl = False
        self.close()

    def close(self) -> None:
        """Close the port; a board still in the raw REPL (a refused deploy) is handed back running its main.py."""
        if self.transport.in_raw_repl:
            raw_repl.leave(self.transport.serial)
        try:
            self.transport.close()
        except OSError:
            pass
