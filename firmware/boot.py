# USB keyboard next to the REPL's serial port, set up at boot. The /boot.py that `electeur deploy` writes
# imports this module; main.py then takes `keyboard` from it. Only with config output "hid", on a board whose
# profile has usb.hid, on MicroPython >= 1.23 (machine.USBDevice) with micropython-lib's usb-device-keyboard
# installed (deploy installs it): usb.device.get().init(..., builtin_driver=True) keeps the built-in CDC
# serial port, so the REPL (deploy, mpremote) stays reachable. Anywhere else it does nothing and says why.
from firmware import board as boards, config

keyboard = None                         # usb.device.keyboard.KeyboardInterface once registered
reason = ""                             # why there is none


def setup():
    """The registered KeyboardInterface, or None (and `reason` says why)."""
    global keyboard, reason
    if keyboard is not None:
        return keyboard
    try:
        import machine
        machine.USBDevice
    except (ImportError, AttributeError):
        reason = "this MicroPython has no machine.USBDevice (native-USB board, MicroPython >= 1.23)"
        return None
    cfg, _ = config.load()
    if cfg["output"] != "hid":
        reason = "output is %s, not hid" % cfg["output"]
        return None
    try:
        if not boards.load()["usb"].get("hid"):
            reason = "the board profile has no USB HID"
            return None
    except boards.BoardError as exc:
        reason = str(exc)
        return None
    try:
        import usb.device
        from usb.device.keyboard import KeyboardInterface
    except ImportError:
        reason = "usb-device-keyboard is not installed (electeur deploy --output hid installs it)"
        return None
    kbd = KeyboardInterface()
    usb.device.get().init(kbd, builtin_driver=True)
    keyboard = kbd
    return kbd


if setup() is None:
    print("e-lecteur boot: no USB keyboard:", reason)
else:
    print("e-lecteur boot: USB keyboard and serial REPL")
