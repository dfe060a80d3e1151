# Starts the reader: board profile, config (bad config -> defaults + error message, never a dead reader),
# camera, decoder probe, output, watchdog, scan loop. On a board, boot.py or /main.py calls main().
import asyncio

from firmware import board as boards, config, decoders
from firmware.feedback import Feedback
from firmware.outputs import open_output
from firmware.scan import ScanLoop
from firmware.watchdog import Watchdog


class SetupError(Exception):
    pass


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
    return ScanLoop(cfg, camera, decoder, output, feedback, watchdog), output, messages


def report(output, messages):
    for m in messages:
        if hasattr(output, "error"):
            output.error("setup", m)
        else:
            print("e-lecteur:", m)


def main(board_name=None):
    from firmware.camera import open_camera
    from firmware.ports import StdioPort
    prof = boards.load(board_name)
    cfg, errors = config.load()
    camera = open_camera(prof, cfg)
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
        messages += output.restore()    # reads a power cut left unacknowledged: resent with their own seq
    output.start()
    report(output, errors + messages)
    asyncio.run(loop.run())


if __name__ == "__main__":
    main()
