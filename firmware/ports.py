# Byte ports: write(bytes) and non-blocking read() -> bytes. stdio on every runtime (USB-CDC REPL port on
# a board, a pipe or pty in the simulator: a thread on CPython, select.poll under the unix port, `hostio` under
# the wasm MicroPython), UART on boards.
import sys


class StdioPort:
    def __init__(self):
        self.out = getattr(sys.stdout, "buffer", sys.stdout)
        self._read = _stdin_reader()
        self.closed = False

    def write(self, data):
        self.out.write(data)
        if hasattr(self.out, "flush"):
            self.out.flush()

    def read(self):
        data = self._read()
        if data is None:
            self.closed = True
            return b""
        return data


def _stdin_reader():
    try:
        import hostio                       # tools/micropython/run.mjs (wasm MicroPython under Node)

        def read():
            data = bytes(hostio.read())
            return None if not data and hostio.eof() else data
        return read
    except ImportError:
        pass
    try:
        import os
        import threading                    # CPython: a thread turns blocking stdin into a queue
        chunks = []
        lock = threading.Lock()
        state = {"eof": False}
        fd = sys.stdin.fileno()
        board = sys.modules.get("micropython")     # the simulated board (firmware/simboard.py), if installed
        rx = getattr(board, "serial_rx", None)

        def pump():
            # os.read on the file descriptor, not sys.stdin.buffer: a daemon thread blocked inside the
            # buffered reader holds its lock, and CPython aborts at exit (SIGABRT, _enter_buffered_busy)
            # when it finalizes stdin while the host still holds its end of the pipe open.
            while True:
                try:
                    d = os.read(fd, 4096)
                except OSError:             # EIO: the pty's other end is gone; the same as end of input
                    d = b""
                if not d:
                    state["eof"] = True
                    return
                if rx:
                    d = rx(d)               # the interrupt character, as a board's serial line treats it
                with lock:
                    chunks.append(d)

        threading.Thread(target=pump, daemon=True).start()

        def read():
            with lock:
                data = b"".join(chunks)
                del chunks[:]
            return None if not data and state["eof"] else data
        return read
    except ImportError:
        pass
    import select                           # a board: poll the USB-CDC stdin
    poller = select.poll()
    poller.register(sys.stdin, select.POLLIN)
    stdin = getattr(sys.stdin, "buffer", sys.stdin)

    def read():
        out = b""
        while poller.poll(0) and len(out) < 512:
            c = stdin.read(1)
            if not c:                       # end of input: a pipe under the unix port (a board's never ends)
                return out or None
            out += c
        return out
    return read


def own_line(owned):
    """The reader owns its serial line (the interrupt character off: a protocol byte 0x03 must not raise
    KeyboardInterrupt), or gives it back to the REPL (Ctrl-C on). No-op where there is no `micropython`."""
    try:
        import micropython
        micropython.kbd_intr(-1 if owned else 3)
    except (ImportError, AttributeError):
        pass


class UartPort:
    def __init__(self, uart_id=1, baudrate=2000000, tx=None, rx=None):
        from machine import UART
        kw = {"baudrate": baudrate, "rxbuf": 2048}
        if tx is not None:
            kw["tx"], kw["rx"] = tx, rx
        self.uart = UART(uart_id, **kw)
        self.closed = False

    def write(self, data):
        self.uart.write(data)

    def read(self):
        return self.uart.read() or b""
