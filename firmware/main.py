# Starts the reader: board profile, config (bad config -> defaults + error message, never a dead reader),
# camera (one that does not start -> a reader that says so over its link and keeps it alive), decoder probe,
# output, watchdog, scan loop. On a board, /main.py calls main().
# While a framed reader runs it owns its serial line: the interrupt character is off (every host message
# starts with the byte 0x03, Ctrl-C). A host takes the board back with RELEASE (docs/firmware.md): the
# reader answers, and with its watchdog running (it cannot be stopped) resets into a boot that stays at
# the REPL, once.
import asyncio
import os

from firmware import board as boards, config, decoders, outbox_file
from firmware.feedback import Feedback
from firmware.outputs import open_output
from firmware.scan import ScanLoop
from firmware.watchdog import Watchdog

RELEASED = "/released"                  # flag file on flash: the next boot stays at the REPL


class SetupError(Exception):
    pass


class Released(Exception):
    """The host asked for the serial line (RELEASE) and no watchdog forces a reset: back to the REPL."""


def build(prof, cfg, port, camera, keyboard=None, decoder="probe", watchdog=None):
    """(scan loop, output, messages): everything wired from data; `messages` are problems to report."""
    messages = []
    if not boards.can(prof, cfg["output"]):
        messages.append("output %s not supported by board %s: framed used" % (cfg["output"], prof["name"]))
        cfg["output"] = "framed"
    if decoder == "probe":
        decoder = decoders.probe(prof) if cfg["decode"] != "host" else None
    if decoder is None and cfg["output"] in ("line", "hid"):
        raise SetupError("output %s needs an on-board decoder and this build has none" % cfg["output"])
    feedback = Feedback(prof)
    output = open_output(cfg, prof, port, feedback, keyboard)
    if hasattr(output, "watchdog"):
        output.watchdog = watchdog
    if hasattr(output, "caps"):
        output.caps.append("decode:" + decoder.name if decoder else "stream:" + cfg["stream_format"])
        output.caps.append("camera:" + getattr(camera, "driver", "unknown"))
    return ScanLoop(cfg, camera, decoder, output, feedback, watchdog), output, messages


def report(output, messages, camera=None):
    """Problems found at start-up, to the host (ERROR) or the console; a camera that did not start first."""
    error = getattr(camera, "error", None)
    for code, m in ([("camera", error)] if error else []) + [("setup", m) for m in messages]:
        if hasattr(output, "error"):
            output.error(code, m)
        else:
            print("e-lecteur:", m)


def released(root=""):
    """True once after a hand-back reset (the flag file is removed): this boot stays at the REPL."""
    try:
        os.remove(root + RELEASED)
        return True
    except OSError:
        return False


def hand_back(watchdog, root=""):
    """Give the serial line back to the REPL. A running watchdog cannot be stopped (rp2, esp32): reset into a
    boot that stays at the REPL, so `electeur deploy` and mpremote get a REPL that lasts. Without one, return:
    the reader stops and MicroPython shows its REPL."""
    from firmware.ports import own_line
    own_line(False)
    if watchdog is None or watchdog.wdt is None:
        return
    with open(root + RELEASED, "w") as f:
        f.write("released by the host\n")
    import machine
    machine.reset()


def serve(loop, output, cfg, messages, camera=None, root="", coro=None):
    """Say hello, report `messages`, run the scan loop (or `coro`). A framed reader owns its serial line from
    before its first message (a host answers at once); RELEASE (framed) or Ctrl-C (line, hid: the interrupt
    character stays on) hands the line back."""
    if hasattr(output, "on_release"):
        output.on_release = lambda: _release(loop.watchdog, root)
    try:
        asyncio.run(_owning(loop, output, cfg, messages, camera, coro))
    except KeyboardInterrupt:
        hand_back(loop.watchdog, root)


def _release(watchdog, root):
    hand_back(watchdog, root)
    raise Released()


async def _owning(loop, output, cfg, messages, camera, coro):
    # the line is taken and given back inside the coroutine: the wasm runner runs asyncio.run's coroutine
    # after the calling code has returned
    from firmware.ports import own_line
    own_line(cfg["output"] == "framed")
    try:
        output.start()
        report(output, messages, camera)
        await (coro or loop.run())
    except Released:
        pass
    finally:
        own_line(False)


def main(board_name=None, root=""):
    """The reader on a board; `root` prefixes the flash paths (the simulated board's flash directory)."""
    from firmware.camera import open_camera
    from firmware.ports import StdioPort, own_line
    own_line(True)                      # at once: a host may talk while the camera starts (line/hid: back on below)
    if released(root):
        own_line(False)
        print("e-lecteur: the host took the serial line back: REPL until the next reset")
        return
    prof = boards.load(board_name)
    cfg, errors = config.load(root + config.PATH)
    camera = open_camera(prof, cfg, root)
    keyboard = None
    if cfg["output"] == "hid":
        from firmware import boot       # registered at boot (/boot.py) so the host sees the keyboard at once
        from firmware.outputs.hid import UsbKeyboard
        if boot.setup() is None:
            errors.append("output hid: no USB keyboard (%s): framed used" % boot.reason)
            cfg["output"] = "framed"
        else:
            keyboard = UsbKeyboard(boot.keyboard)
    loop, output, messages = build(prof, cfg, StdioPort(), camera, keyboard, watchdog=Watchdog())
    if hasattr(output, "restore"):
        output.config_path = root + config.PATH
        messages += output.restore(root + outbox_file.PATH)    # reads a power cut left unacknowledged: resent
    serve(loop, output, cfg, errors + messages, camera, root)


if __name__ == "__main__":
    main()
