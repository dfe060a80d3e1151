# `line` output: a plain virtual COM port, one read per line with a configurable prefix and suffix,
# as commercial scanners do. The payload bytes go out unchanged; one holding CR or LF is refused
# (it would split the line for the LGO reading the port).
from firmware.outputs import Refused


class LineOutput:
    can_stream = False

    def __init__(self, port, cfg):
        self.port = port
        self.prefix = cfg["line_prefix"].encode()
        self.suffix = cfg["line_suffix"].encode()

    def start(self):
        pass

    def poll(self):
        self.port.read()                # nothing is expected from the host; keep the input drained

    def busy(self):
        return False

    async def emit(self, payload, fmt="qr", engine="", captured_ms=0):
        if b"\r" in payload or b"\n" in payload:
            raise Refused("payload holds a line break")
        self.port.write(self.prefix + payload + self.suffix)
        return True

    async def drain(self, timeout_ms):
        return True
