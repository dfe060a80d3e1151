# Feedback: LED (and buzzer) pattern on a good read, a distinct pattern on an error, another when the host
# has not acknowledged a read in time (framed/tcp: the read waits in the outbox). Boards without LED or
# buzzer (and the simulator) only count them; `trace` (the simulator's stderr) sees each one by name.
GOOD = (80,)                    # on-times in ms, with equal pauses
ERROR = (40, 40, 40)
PENDING = (400, 40, 40)         # long then short: "host not answering"
PATTERNS = {"good": GOOD, "error": ERROR, "pending": PENDING}


class Feedback:
    def __init__(self, board, trace=None):
        self.counts = {"good": 0, "error": 0, "pending": 0}
        self.trace = trace
        self.pins = []
        self._playing = False
        for part in (board.get("led"), board.get("buzzer")):
            if part and isinstance(part.get("pin"), int):
                try:
                    from machine import Pin
                    self.pins.append((Pin(part["pin"], Pin.OUT), part.get("active_high", True)))
                except ImportError:
                    pass

    def _count(self, kind):
        self.counts[kind] += 1
        if self.trace:
            self.trace(kind)

    async def _pattern(self, times):
        from firmware.clock import sleep_ms
        self._playing = True
        try:
            for on_ms in times:
                for pin, high in self.pins:
                    pin.value(1 if high else 0)
                await sleep_ms(on_ms)
                for pin, high in self.pins:
                    pin.value(0 if high else 1)
                await sleep_ms(on_ms)
        finally:
            self._playing = False

    def signal(self, kind):
        """Count `kind` and play its pattern in the background (from an output's poll(), on an ACK or a
        timeout); a pattern already playing is not interrupted (a burst of ACKs gives one blink)."""
        self._count(kind)
        if self.pins and not self._playing:
            import asyncio
            self._playing = True        # now, not when the task starts: the next ACK of this poll sees it
            asyncio.create_task(self._pattern(PATTERNS[kind]))

    async def good(self):
        self._count("good")
        if self.pins:
            await self._pattern(GOOD)

    async def error(self):
        self._count("error")
        if self.pins:
            await self._pattern(ERROR)
