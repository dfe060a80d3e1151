"""A simulated MicroPython board on a pty, for testing `electeur deploy` without hardware.

What is real: the pseudo-terminal, pyserial and mpremote's transport on the host side, and the byte-level
raw REPL protocol (Ctrl-A -> "raw REPL; CTRL-B to exit\\r\\n>", code + Ctrl-D -> "OK" stdout \\x04 stderr
\\x04 ">", Ctrl-D on an empty line -> soft reboot, Ctrl-B -> friendly REPL, raw-paste "\\x05A\\x01" answered
"R\\x01" + a 2-byte window with \\x01 flow control, or "R\\x00" (unsupported) with --no-raw-paste).
What is simulated: the interpreter is CPython exec() of the code sent, with `os`, `sys` and `machine`
replaced: `os` works on a temp directory standing in for the board's flash (statvfs reports
--capacity bytes minus what is stored), `sys.implementation` reports --version/--mpy/--machine, and
`machine.reset()` appends "reset" to --events and returns to the friendly REPL; `gc.mem_free()` returns --heap,
`machine.USBDevice` and the `usb` package exist with --usb-device, imports are limited to those fakes, a few stdlib modules and the
names present in the temp directory, and a `camera` module with the cnadler86 API surface (Camera(...)
with the pin keywords, capture() -> a blank QVGA frame at --fps, deinit()) is there unless --camera missing. --record logs every code block,
so a test can replay the session on real MicroPython (tests/helpers/mp_replay.mjs); `electeur bench deploy` uses it too.
With --reader the board first runs a framed reader that owns its serial line (interrupt character off: Ctrl-C
and Ctrl-A do nothing): only the wire protocol's RELEASE takes it back (answered, "handback" in --events, then
the friendly REPL, as after the reader's reset into a boot that stays at the REPL). Run as a script: prints
the pty path on its first line, serves until killed.
"""

from __future__ import annotations

import argparse
import builtins
import errno
import io
import json
import os
import pty
import sys
import time
import traceback
import tty
import types
from pathlib import Path

from firmware import protocol as P

BOARD_STDLIB = {"json", "time", "struct", "binascii", "errno", "hashlib", "io", "select"}
RAW_BANNER = b"raw REPL; CTRL-B to exit\r\n>"
PASTE_WINDOW = 128


class Board:
    def __init__(self, fd: int, args: argparse.Namespace) -> None:
        self.fd, self.args = fd, args
        self.root = Path(args.root).resolve()
        self.raw = False
        self.namespace: dict = {}

    # --- the fake modules -----------------------------------------------------------------------
    def path(self, p: str) -> Path:
        full = (self.root / str(p).lstrip("/")).resolve()
        if self.root not in full.parents and full != self.root:
            raise OSError(2, "ENOENT")
        return full

    def used(self) -> int:
        return sum(f.stat().st_size for f in self.root.rglob("*") if f.is_file())

    def modules(self) -> dict[str, types.ModuleType]:
        fos = types.ModuleType("os")
        block = 4096
        fos.getcwd = lambda: "/"
        fos.statvfs = lambda p: (block, block, self.args.capacity // block,
                                 max(0, self.args.capacity - self.used()) // block,
                                 max(0, self.args.capacity - self.used()) // block, 0, 0, 0, 0, 255)
        fos.stat = lambda p: tuple(os.stat(self.path(p)))
        fos.mkdir = lambda p: os.mkdir(self.path(p))
        fos.remove = lambda p: os.remove(self.path(p))
        fos.listdir = lambda p="": os.listdir(self.path(p))
        fos.ilistdir = lambda p="": ((e.name, 0x4000 if e.is_dir() else 0x8000, 0, e.stat().st_size)
                                     for e in os.scandir(self.path(p)))
        fsys = types.ModuleType("sys")
        fsys.implementation = types.SimpleNamespace(
            name="micropython", version=tuple(int(v) for v in self.args.version.split(".")) + ("",),
            _mpy=int(self.args.mpy, 0), _machine=self.args.machine)
        fsys.platform = self.args.machine.split()[0].lower()
        fmachine = types.ModuleType("machine")
        fmachine.reset = self.reset
        if self.args.usb_device:
            fmachine.USBDevice = object
        fgc = types.ModuleType("gc")
        fgc.collect = lambda: None
        fgc.mem_free = lambda: self.args.heap
        fakes = {"os": fos, "sys": fsys, "machine": fmachine, "gc": fgc}
        if self.args.usb_device:  # the micropython-lib keyboard package, as `mip install usb-device-keyboard` adds
            fakes["usb"] = types.ModuleType("usb")
        if self.args.camera != "missing":
            fakes["camera"] = self.camera_module()
        return fakes

    def camera_module(self) -> types.ModuleType:
        """The cnadler86 camera API surface the self-test probe uses; frames are blank QVGA gray at --fps."""
        fcam = types.ModuleType("camera")
        fcam.PixelFormat = types.SimpleNamespace(GRAYSCALE=0, JPEG=1)
        fcam.FrameSize = types.SimpleNamespace(QVGA=5)
        wanted = {"data_pins", "vsync_pin", "href_pin", "sda_pin", "scl_pin", "pclk_pin", "xclk_pin", "xclk_freq",
                  "powerdown_pin", "reset_pin", "pixel_format", "frame_size"}
        args = self.args

        class Camera:
            def __init__(self, **kw):
                if set(kw) != wanted:
                    raise TypeError(f"unexpected keywords {sorted(set(kw) ^ wanted)}")
                if args.camera == "absent":
                    raise OSError("Camera probe failed (sensor not detected)")

            def capture(self):
                time.sleep(1 / args.fps)
                return None if args.camera == "noframe" else bytes(320 * 240)

            def deinit(self):
                pass

        fcam.Camera = Camera
        return fcam

    def reset(self) -> None:
        with open(self.args.events, "a") as f:
            f.write("reset\n")
        raise SystemExit  # ends the exec; the board "reboots" into the friendly REPL

    def execute(self, code: bytes) -> tuple[bytes, bytes]:
        if self.args.record:
            with open(self.args.record, "a") as f:
                f.write(json.dumps(code.decode()) + "\n")
        fakes = self.modules()

        def fake_import(name, *rest):
            top = name.split(".")[0]
            if top in fakes:
                return fakes[top]
            if top in BOARD_STDLIB:
                return builtins.__import__(name, *rest)
            if any((self.root / f"{top}{ext}").exists() for ext in ("", ".py", ".mpy")):
                return types.ModuleType(top)  # present on the board's flash (not executed by the simulation)
            raise ImportError(f"no module named '{name}'")

        def fake_open(p, mode="r"):
            return builtins.open(self.path(p), mode)

        bi = dict(vars(builtins), __import__=fake_import, open=fake_open)
        self.namespace["__builtins__"] = bi
        out, err = io.StringIO(), ""
        real_stdout, sys.stdout = sys.stdout, out
        try:
            exec(compile(code.decode(), "<stdin>", "exec"), self.namespace)
        except SystemExit:
            self.raw = False
            return b"", b"reset"
        except BaseException as exc:  # the board reports any exception as a traceback on stderr
            last = "".join(traceback.format_exception_only(exc))
            if isinstance(exc, OSError) and exc.errno in errno.errorcode:   # as MicroPython words it
                last = f"OSError: [Errno {exc.errno}] {errno.errorcode[exc.errno]}\r\n"
            err = "Traceback (most recent call last):\r\n" + last
        finally:
            sys.stdout = real_stdout
        return out.getvalue().replace("\n", "\r\n").encode(), err.encode()

    # --- the raw REPL -------------------------------------------------------------------------
    def read(self) -> int:
        b = os.read(self.fd, 1)
        if not b:
            raise EOFError
        return b[0]

    def write(self, data: bytes) -> None:
        os.write(self.fd, data)

    def run_reader(self) -> None:
        """A framed reader with the interrupt character off: everything but RELEASE is ignored."""
        decoder = P.Decoder()
        while True:
            if any(m.type == P.RELEASE for m in decoder.feed(bytes((self.read(),)))):
                self.write(P.release(1))
                with open(self.args.events, "a") as f:
                    f.write("handback\n")
                self.write(b"e-lecteur: the host took the serial line back: REPL until the next reset\r\n>>> ")
                return

    def serve(self) -> None:
        if self.args.reader:
            self.run_reader()
        line = bytearray()
        while True:
            c = self.read()
            if not self.raw:
                if c == 1:
                    self.raw, line = True, bytearray()
                    self.write(b"\r\n" + RAW_BANNER)
                elif c in (3, 13):
                    self.write(b"\r\n>>> ")
                continue
            if c == 1:                  # Ctrl-A in the raw REPL starts it over, as MicroPython's does
                line = bytearray()
                self.write(b"\r\n" + RAW_BANNER)
            elif c == 2:
                self.raw = False
                self.write(b"\r\n>>> ")
            elif c == 3:
                line = bytearray()
            elif c == 5 and not line:
                self.paste_request()
            elif c == 4 and not line:
                self.namespace = {}
                self.write(b"OK\r\nMPY: soft reboot\r\n" + RAW_BANNER)
            elif c == 4:
                self.write(b"OK")
                self.reply(bytes(line))
                line = bytearray()
            else:
                line.append(c)

    def reply(self, code: bytes) -> None:
        out, err = self.execute(code)
        if err == b"reset":
            return
        self.write(out + b"\x04" + err + b"\x04>")

    def paste_request(self) -> None:
        if (self.read(), self.read()) != (ord("A"), 1):
            return
        if not self.args.raw_paste:
            self.write(b"R\x00")
            return
        self.write(b"R\x01" + PASTE_WINDOW.to_bytes(2, "little"))
        code, window = bytearray(), PASTE_WINDOW
        while True:
            c = self.read()
            if c == 4:
                break
            code.append(c)
            window -= 1
            if window == 0:
                window = PASTE_WINDOW
                self.write(b"\x01")
        self.write(b"\x04")
        self.reply(bytes(code))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", required=True)
    ap.add_argument("--events", required=True)
    ap.add_argument("--version", default="1.27.0")
    ap.add_argument("--mpy", default=hex(6 | 3 << 8 | 10 << 10), help="sys.implementation._mpy (6.3, xtensawin)")
    ap.add_argument("--machine", default="Generic ESP32 module with ESP32")
    ap.add_argument("--capacity", type=int, default=1 << 20)
    ap.add_argument("--no-raw-paste", dest="raw_paste", action="store_false")
    ap.add_argument("--camera", choices=["ok", "missing", "absent", "noframe"], default="ok",
                    help="camera module: works / no driver in the image / sensor not detected / returns no frame")
    ap.add_argument("--fps", type=float, default=25.0)
    ap.add_argument("--heap", type=int, default=110_000, help="gc.mem_free()")
    ap.add_argument("--usb-device", action="store_true",
                    help="machine.USBDevice exists (native USB builds) and the usb-device-keyboard package is installed")
    ap.add_argument("--reader", action="store_true",
                    help="a framed reader runs first, deaf to Ctrl-C: only RELEASE gives the REPL back")
    ap.add_argument("--record", help="append every code block executed, as JSON lines (to replay them elsewhere)")
    args = ap.parse_args()
    master, slave = pty.openpty()
    tty.setraw(slave)
    print(os.ttyname(slave), flush=True)
    try:
        Board(master, args).serve()
    except (EOFError, OSError):
        pass


if __name__ == "__main__":
    main()
