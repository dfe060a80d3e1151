# `hid` output: types each read as a USB keyboard on the configured layout (AZERTY by default).
# Only characters the layout can type are sent: GS (0x1D) becomes the configured visible substitute;
# any other control character, non-ASCII byte or over-long read refuses the whole read (error feedback),
# so a code can never type a control key, a shortcut or an Enter inside a read.
from firmware.clock import sleep_ms, ticks_diff, ticks_ms

from firmware import keymaps
from firmware.outputs import Refused

SUFFIX = {"enter": ((keymaps.ENTER, 0),), "tab": ((keymaps.TAB, 0),), "none": ()}
STALL_MS = 2000                 # a USB host that takes no keyboard report for this long has stopped polling


def plan(payload, layout, gs="<GS>", max_len=512, suffix=()):
    """The keystroke groups that type `payload` (one group per character), then the suffix; or Refused."""
    if len(payload) > max_len:
        raise Refused("read of %d bytes is longer than %d" % (len(payload), max_len))
    text = []
    for b in payload:
        if b == 0x1D:
            text.append(gs)
        elif 0x20 <= b <= 0x7E:
            text.append(chr(b))
        else:
            raise Refused("byte 0x%02x cannot be typed" % b)
    groups = []
    for ch in "".join(text):
        keys = layout.get(ch)
        if keys is None:
            raise Refused("'%s' cannot be typed on this layout" % ch)
        groups.append(keys)
    for key in suffix:
        groups.append((key,))
    return groups


class HidOutput:
    can_stream = False

    def __init__(self, keyboard, cfg):
        self.keyboard = keyboard
        self.layout = keymaps.LAYOUTS[cfg["hid_layout"]]()
        self.gs = cfg["hid_gs"]
        self.max_len = cfg["hid_max_len"]
        self.suffix = SUFFIX[cfg["hid_suffix"]]
        self.delay_ms = cfg["hid_key_delay_ms"]
        self.watchdog = None            # fed while a slow host keeps a report waiting
        for ch in self.gs:
            if ch not in self.layout:
                raise ValueError("hid_gs '%s' cannot be typed on %s" % (self.gs, cfg["hid_layout"]))

    def start(self):
        pass

    def poll(self):
        pass

    def busy(self):
        return False

    async def emit(self, payload, fmt="qr", engine="", captured_ms=0):
        groups = plan(payload, self.layout, self.gs, self.max_len, self.suffix)
        for keys in groups:
            for key in keys:
                await self._send(self.keyboard.press, key)
                await sleep_ms(self.delay_ms)
                await self._send(self.keyboard.release)
        self.keyboard.end()
        return True

    async def _send(self, report, *key):
        """One keyboard report, again until the host takes it: send_keys is False while the host has not yet
        polled the previous report (a slow host), and a skipped report is a lost or stuck key. Refused (error
        feedback) once the host has taken nothing for STALL_MS: never a silent loss."""
        t = ticks_ms()
        while not report(*key):
            if ticks_diff(ticks_ms(), t) >= STALL_MS:
                raise Refused("the USB host took no keystroke for %d ms: read not typed whole" % STALL_MS)
            if self.watchdog:
                self.watchdog.feed()
            await sleep_ms(2)

    async def drain(self, timeout_ms):
        return True


class PrintedKeyboard:
    """The simulated keyboard: writes to `port` the text the keystrokes type on `layout`."""

    def __init__(self, port, layout_name):
        self.port = port
        self.chars = {}
        for ch, keys in keymaps.LAYOUTS[layout_name]().items():
            if len(keys) == 1:
                self.chars[keys[0]] = ch
        self.chars[(keymaps.ENTER, 0)] = "\n"
        self.chars[(keymaps.TAB, 0)] = "\t"
        self.dead = None
        self.line = []

    def press(self, key):
        if self.dead is not None:           # dead key then space types the accent alone
            self.line.append({0x1F: "~", 0x24: "`"}[self.dead[0]])
            self.dead = None
            return True
        if key in ((0x1F, keymaps.ALTGR), (0x24, keymaps.ALTGR)):
            self.dead = key
            return True
        self.line.append(self.chars[key])
        return True

    def release(self):
        return True

    def end(self):
        text = "".join(self.line)
        self.line = []
        self.port.write(text.encode() if text.endswith("\n") else (text + "\n").encode())


class UsbKeyboard:
    """A real USB keyboard (micropython-lib usb-device-keyboard, registered from boot.py)."""

    def __init__(self, interface):
        self.kbd = interface

    def press(self, key):
        code, mods = key
        keys = [code]
        if mods & keymaps.SHIFT:
            keys.append(-0x02)          # KeyCode modifiers are negative in usb-device-keyboard
        if mods & keymaps.ALTGR:
            keys.append(-0x40)
        return self.kbd.send_keys(keys, 10)     # False: the host has not polled the last report yet

    def release(self):
        return self.kbd.send_keys((), 10)

    def end(self):
        pass
