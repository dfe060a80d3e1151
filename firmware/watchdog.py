# Hardware watchdog where the port has one (machine.WDT); a no-op elsewhere (simulator, wasm).


class Watchdog:
    def __init__(self, timeout_ms=8000):
        try:
            from machine import WDT
            self.wdt = WDT(timeout=timeout_ms)
        except (ImportError, AttributeError, ValueError):
            self.wdt = None

    def feed(self):
        if self.wdt:
            self.wdt.feed()
