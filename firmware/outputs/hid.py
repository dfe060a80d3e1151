# `hid` output: types each read as a USB keyboard on the configured layout (French AZERTY by default).
# The payload is UTF-8 text: each character is typed with the layout's keys (é è ç à ù directly, â ê ë ï ü...
# through the dead keys); GS, RS and US (GS1, INS and 2D-Doc separators) become their configured visible
# substitutes; a character no key gives follows `hid_fallback`: refused, typed as a Windows Alt+numpad code,
# or replaced by `hid_substitute`. Any other control character (or invisible formatting character), bytes that
# are not UTF-8, or an over-long read refuse the whole read: the scan loop then gives the error feedback (LED,
# buzzer) and says why on the console, so a code never types a control key, a shortcut or an Enter inside a
# read, and no read is dropped silently.
from firmware.clock import sleep_ms, ticks_diff, ticks_ms

from firmware import keymaps
from firmware.outputs import Refused

SUFFIX = {"enter": ((keymaps.ENTER, 0),), "tab": ((keymaps.TAB, 0),), "none": ()}
STALL_MS = 2000                 # a USB host that takes no keyboard report for this long has stopped polling
# invisible characters that could hide or reorder what is typed: zero-width, bidi marks/overrides/isolates, BOM
INVISIBLE = ((0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F), (0xFEFF, 0xFEFF), (0x00AD, 0x00AD))


def _invisible(n):
    for lo, hi in INVISIBLE:
        if lo <= n <= hi:
            return True
    return False


def plan(payload, layout, gs="<GS>", max_len=512, suffix=(), rs="<RS>", us="<US>", fallback="refuse",
         substitute="?"):
    """The keystroke groups that type `payload` (one group per character), then the suffix; or Refused."""
    if len(payload) > max_len:
        raise Refused("read of %d bytes is longer than %d" % (len(payload), max_len))
    try:
        text = payload.decode("utf-8")
    except Exception:   # UnicodeDecodeError on CPython, UnicodeError on MicroPython
        raise Refused("read is not UTF-8 text")
    shown = {0x1D: gs, 0x1E: rs, 0x1F: us}
    groups = []
    for ch in text:
        n = ord(ch)
        if n in shown:
            for c in shown[n]:
                groups.append(layout[c])
            continue
        if n < 0x20 or 0x7F <= n <= 0x9F or _invisible(n):
            raise Refused("character U+%04X cannot be typed" % n)
        keys = layout.get(ch)
        if keys is None and fallback == "alt":
            keys = keymaps.alt_code(ch)
        if keys is None and fallback == "substitute":
            for c in substitute:
                groups.append(layout[c])
            continue
        if keys is None:
            raise Refused("'%s' (U+%04X) has no key on this layout" % (ch, n))
        groups.append(keys)
    for key in suffix:
        groups.append((key,))
    return groups


class HidOutput:
    can_stream = False

    def __init__(self, keyboard, cfg):
        self.keyboard = keyboard
        self.layout = keymaps.LAYOUTS[cfg["hid_layout"]]()
        self.cfg = cfg
        self.max_len = cfg["hid_max_len"]
        self.suffix = SUFFIX[cfg["hid_suffix"]]
        self.delay_ms = cfg["hid_key_delay_ms"]
        self.watchdog = None            # fed while a slow host keeps a report waiting
        for key in ("hid_gs", "hid_rs", "hid_us", "hid_substitute"):
            for ch in cfg[key]:
                if ch not in self.layout:
                    raise ValueError("%s '%s' cannot be typed on %s" % (key, cfg[key], cfg["hid_layout"]))

    def start(self):
        pass

    def poll(self):
        pass

    def busy(self):
        return False

    async def emit(self, payload, fmt="qr", engine="", captured_ms=0):
        c = self.cfg
        groups = plan(payload, self.layout, c["hid_gs"], self.max_len, self.suffix, c["hid_rs"], c["hid_us"],
                      c["hid_fallback"], c["hid_substitute"])
        for keys in groups:
            last = len(keys) - 1
            for i, key in enumerate(keys):
                await self._send(self.keyboard.press, key)
                await sleep_ms(self.delay_ms)
                # Alt stays down between the digits of an Alt+numpad code; everything else is released
                await self._send(self.keyboard.release, key[1] & keymaps.LEFT_ALT if i < last else 0)
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
    """The simulated keyboard: writes to `port` the text the keystrokes type on `layout` (dead keys and Alt
    codes included), one line per read."""

    def __init__(self, port, layout_name):
        self.port = port
        self.typed = {}
        for ch, keys in keymaps.LAYOUTS[layout_name]().items():
            self.typed[keys] = ch
        self.typed[((keymaps.ENTER, 0),)] = "\n"
        self.typed[((keymaps.TAB, 0),)] = "\t"
        self.pending = ()
        self.line = []

    def press(self, key):
        self.pending += (key,)
        ch = self.typed.get(self.pending)
        if ch is None and len(self.pending) == 4 and key[1] & keymaps.LEFT_ALT:
            ch = keymaps.alt_char(self.pending)
        if ch is not None:
            self.line.append(ch)
            self.pending = ()
        return True

    def release(self, keep=0):
        return True

    def end(self):
        text = "".join(self.line)
        self.line, self.pending = [], ()
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
        if mods & keymaps.LEFT_ALT:
            keys.append(-0x04)
        return self.kbd.send_keys(keys, 10)     # False: the host has not polled the last report yet

    def release(self, keep=0):
        return self.kbd.send_keys([-0x04] if keep & keymaps.LEFT_ALT else (), 10)

    def end(self):
        pass
