# Output modes: framed (protocol, USB-CDC/UART), line (one read per line), hid (USB keyboard), tcp.
# Every output has start(), poll(), async emit(payload, fmt, engine, captured_ms) -> bool (True: delivered,
# good feedback now; False: the output gives it itself once the host acknowledges; raises Refused),
# async send_frame(frame) -> bool and async wait_frame() (framed/tcp only), busy() and async drain(timeout_ms).


class Refused(Exception):
    """A read this output cannot deliver safely (untypeable, too long): error feedback, nothing sent."""


def open_output(cfg, board, port, feedback, keyboard=None):
    mode = cfg["output"]
    if mode == "framed":
        from firmware.outputs.framed import FramedOutput
        return FramedOutput(port, cfg, board, feedback=feedback)
    if mode == "line":
        from firmware.outputs.line import LineOutput
        return LineOutput(port, cfg)
    if mode == "hid":
        from firmware.outputs.hid import HidOutput
        return HidOutput(keyboard, cfg)
    if mode == "tcp":
        from firmware.outputs.tcp import TcpOutput
        return TcpOutput(cfg, board, feedback=feedback)
    raise ValueError("unknown output '%s'" % mode)
