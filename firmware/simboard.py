# The simulated board's MicroPython-only behaviours, for the virtual reader on CPython (firmware/on_host.py), so
# that a firmware defect that only shows on a board shows in the tests too (docs/firmware.md lists what is
# reproduced and what is not):
# - `micropython.kbd_intr`: the serial line's interrupt character (0x03 at boot, as rp2 and esp32) raises
#   KeyboardInterrupt in the running code as soon as it arrives, and the bytes received before it are
#   dropped (MicroPython clears its stdin ring buffer); kbd_intr(-1) turns that off.
# - `machine.WDT`: not fed within its timeout, the board resets; `machine.reset()`. A reset re-executes the
#   simulator (RAM lost; the --flash directory, the board's flash, kept).
# - `machine.SPI`/`I2C`/`Pin`: buses with nothing on them (SPI reads 0xFF, an I2C scan finds nobody).
# - `os.urandom`: `repeat` gives the same bytes on every boot, as a port without a hardware RNG may.
# Installed only where the runtime has no such module (never under MicroPython).
import os
import sys
import threading
import time

INTERRUPT = 3                           # MicroPython's default interrupt character (Ctrl-C)


class Micropython:
    """The `micropython` module of a board, as far as the firmware uses it."""

    def __init__(self):
        self.intr = INTERRUPT

    def kbd_intr(self, c):
        self.intr = c

    def serial_rx(self, data):
        """Bytes arriving on the serial line: the interrupt character interrupts the main thread at once
        (wherever it is: a decode, a sleep) and what came before it in the buffer is dropped."""
        if self.intr < 0 or self.intr not in data:
            return data
        import _thread
        _thread.interrupt_main()
        return data[data.rindex(self.intr) + 1:]


def reset(why):
    """The board resets: the process starts over with the same arguments (same flash, same serial line)."""
    sys.stderr.write("simboard: %s: reset\n" % why)
    sys.stderr.flush()
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        pass
    os.execv(sys.executable, [sys.executable] + sys.orig_argv[1:])


class WDT:
    """machine.WDT: once started it cannot be stopped; not fed for `timeout` ms, the board resets."""
    timeout_scale = 1.0                 # --wdt-scale: shorter timeouts keep the tests fast

    def __init__(self, id=0, timeout=5000):
        self.timeout_s = timeout * self.timeout_scale / 1000
        self.fed = time.monotonic()
        threading.Thread(target=self._watch, daemon=True).start()

    def feed(self):
        self.fed = time.monotonic()

    def _watch(self):
        while True:
            left = self.fed + self.timeout_s - time.monotonic()
            if left <= 0:
                reset("watchdog not fed for %d ms" % (self.timeout_s * 1000))
            time.sleep(min(left, 0.05))


class Pin:
    OUT, IN = 1, 0

    def __init__(self, id, mode=0, value=None):
        self.v = value or 0

    def __call__(self, v=None):
        return self.value(v)

    def value(self, v=None):
        if v is None:
            return self.v
        self.v = v


class SPI:
    """An SPI bus with nothing on it: MISO floats high."""

    def __init__(self, id, baudrate=1000000, **pins):
        pass

    def write(self, data):
        pass

    def read(self, n, write=0):
        return b"\xff" * n

    def readinto(self, buf, write=0):
        for i in range(len(buf)):
            buf[i] = 0xFF

    def deinit(self):
        pass


class I2C:
    """An I2C bus with nothing on it: no address acknowledges."""

    def __init__(self, id, **kw):
        pass

    def scan(self):
        return []

    def writeto(self, addr, data):
        raise OSError(19, "ENODEV")

    def readfrom(self, addr, n):
        raise OSError(19, "ENODEV")


class Machine:
    WDT, Pin, SPI, I2C = WDT, Pin, SPI, I2C

    @staticmethod
    def reset():
        reset("machine.reset()")


def install(urandom="fresh", wdt_scale=1.0):
    """Make `import micropython` and `import machine` find the simulated board (CPython only)."""
    if sys.implementation.name == "micropython":
        return
    WDT.timeout_scale = wdt_scale
    sys.modules.setdefault("micropython", Micropython())
    sys.modules.setdefault("machine", Machine())
    if urandom == "repeat":
        os.urandom = lambda n: bytes(range(n))
