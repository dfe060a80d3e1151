# The virtual reader: the real firmware with the simulated board. Runs on CPython and MicroPython:
#   on_host.py --images DIR [--mode framed|line|hid] [--show-ms N] [--loop] [--idle] [--decode auto|host]
#          [--reader-id N] [--drain-ms N] [--stream-format gray8|jpeg] [--flash FLASHDIR] [--trace-feedback]
#          [--urandom fresh|repeat] [--wdt-scale F] [--secure]
#   on_host.py --board NAME --flash FLASHDIR [--urandom ...] [--wdt-scale F]
# --board runs firmware.main.main() as deployed on that board, FLASHDIR playing its flash (config.json;
# config `camera` "sim" shows the frames of FLASHDIR/frames). On CPython the board's MicroPython-only
# behaviours are simulated (firmware/simboard.py: the interrupt character, a watchdog that resets the board,
# empty buses; --urandom repeat: the same "random" bytes every boot; --wdt-scale shortens the watchdog).
# DIR holds binary PGM frames (the host converts PNG/JPEG) or .jpg frames (streamed as JPEG bytes) and
# frames.txt, their order one name a line.
# Output goes to stdout; in framed mode the host's ACKs come on stdin. FLASHDIR plays the board's flash:
# config.json is read from it (the command line's keys win) and saved to it, and the outbox is kept in
# outbox.bin there, so a reader killed and restarted on the same FLASHDIR resends what was not acknowledged.
# --trace-feedback prints each feedback pattern (good, error, pending) as a line on stderr.
# --secure runs the framed link paired, as the tcp output does (firmware/secure_port.py), with config.json's
# pair_key (from FLASHDIR, else DIR).
import sys

from firmware import board as boards, config
from firmware.camera.image_files import SimCamera, listed
from firmware.clock import sleep_ms
from firmware.main import SetupError, build, released, serve
from firmware.ports import StdioPort, own_line
from firmware.watchdog import Watchdog


def parse(argv):
    opts = {"images": None, "mode": "framed", "show-ms": "0", "decode": "auto", "reader-id": "",
            "drain-ms": "30000", "stream-format": "gray8", "flash": "", "board": "", "urandom": "fresh",
            "wdt-scale": "1"}
    flags = {"loop": False, "idle": False, "trace-feedback": False, "secure": False}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("--") and a[2:] in flags:
            flags[a[2:]] = True
        elif a.startswith("--") and a[2:] in opts and i + 1 < len(argv):
            i += 1
            opts[a[2:]] = argv[i]
        else:
            raise SetupError("unknown argument %s" % a)
        i += 1
    if not opts["images"] and not opts["board"]:
        raise SetupError("--images DIR is required")
    if opts["board"] and not opts["flash"]:
        raise SetupError("--board needs --flash DIR (the board's flash)")
    return opts, flags


def setup(opts, flags):
    """The scan loop, output and port, wired from the simulated board; SetupError when impossible."""
    flash = opts["flash"]
    base, errors = config.load((flash or opts["images"]) + "/config.json")   # `electeur pair` saves there too
    keys = {"output": opts["mode"], "decode": opts["decode"], "stream_format": opts["stream-format"], "heartbeat_ms": 0}
    if opts["reader-id"]:               # else the flash's config.json says (default 1)
        keys["reader_id"] = int(opts["reader-id"])
    cfg, more = config.validate(keys, base)
    errors += more
    if opts["show-ms"] == "0":
        cfg["change_threshold"] = 0     # one frame per image: each image is a new presentation
    port = link = StdioPort()
    if flags["secure"]:
        if not cfg["pair_key"]:
            raise SetupError("--secure needs a pair_key in config.json")
        from firmware.secure import parse_key
        from firmware.secure_port import SecurePort
        link = SecurePort(port, parse_key(cfg["pair_key"]), cfg["reader_id"])
    keyboard = None
    if cfg["output"] == "hid":
        from firmware.outputs.hid import PrintedKeyboard
        keyboard = PrintedKeyboard(port, cfg["hid_layout"])
    try:
        camera = SimCamera(listed(opts["images"]), int(opts["show-ms"]), flags["loop"])
    except (OSError, ValueError):
        raise SetupError("cannot read %s/frames.txt" % opts["images"])
    loop, output, messages = build(boards.SIM, cfg, link, camera, keyboard, watchdog=Watchdog())
    if link is not port:
        link.on_connect = output.connected
    output.config_path = (flash or opts["images"]) + "/config.json"     # CONFIG_SET saves there, not in /
    if flash and hasattr(output, "restore"):
        errors += output.restore(flash + "/outbox.bin")
    if flags["trace-feedback"]:
        loop.feedback.trace = lambda kind: sys.stderr.write("feedback %s\n" % kind)
    return loop, output, port, cfg, errors + messages


async def run(loop, output, port, flags):
    """Scan every image, deliver what is pending (up to --drain-ms), then idle with --idle until stdin closes
    (with --idle a closed stdin also ends the scan: nobody is left to read it)."""
    while await loop.step():
        if flags["idle"] and port.closed:
            return                      # the host end (the pty relay) is gone: even with --loop, stop
    await output.drain(int(flags["drain-ms"]))
    while flags["idle"] and not port.closed:
        output.poll()
        loop.feed()
        await sleep_ms(20)


def main(argv):
    try:
        opts, flags = parse(argv)
    except SetupError as exc:
        sys.stderr.write("sim: %s\n" % exc)
        sys.exit(2)
    if sys.implementation.name != "micropython":
        from firmware import simboard
        simboard.install(opts["urandom"], float(opts["wdt-scale"]))
    own_line(True)                      # as main() on a board: before anything a host could answer
    if opts["board"]:
        from firmware.main import main as board_main
        board_main(opts["board"], opts["flash"])
        return
    root = opts["flash"] or opts["images"]      # the board's flash: where a hand-back leaves its flag
    if released(root):
        own_line(False)
        print("e-lecteur: the host took the serial line back: REPL until the next reset")
        return
    try:
        loop, output, port, cfg, messages = setup(opts, flags)
    except SetupError as exc:
        sys.stderr.write("sim: %s\n" % exc)
        sys.exit(2)
    flags["drain-ms"] = opts["drain-ms"]
    try:
        serve(loop, output, cfg, messages, root=root, coro=run(loop, output, port, flags))
    except OSError as exc:
        if exc.args[:1] != (32,):       # EPIPE: whoever read stdout has gone (`electeur sim ... | head`)
            raise
        quiet_stdout()


def quiet_stdout():
    """Stop quietly, as an unplugged board would: CPython would otherwise complain again when it flushes stdout."""
    try:
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (AttributeError, ImportError, OSError):
        pass


if __name__ == "__main__":
    main(sys.argv[1:])
