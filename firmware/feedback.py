# Feedback: LED (and buzzer) pattern on a good read, a distinct pattern on an error.
# Boards without them (and the simulator) only count.
GOOD = (80,)                    # on-times in ms, with equal pauses
ERROR = (40, 40, 40)


class Feedback:
    def __init__(self, board):
        self.good_count = 0
        self.error_count = 0
        self.pins = []
        for part in (board.get("led"), board.get("buzzer")):
            if part and isinstance(part.get("pin"), int):
                try:
                    from machine import Pin
                    self.pins.append((Pin(part["pin"], Pin.OUT), part.get("active_high", True)))
                except ImportError:
                    pass

    async def _pattern(self, times):
        from firmware.clock import sleep_ms
        for on_ms in times:
            for pin, high in self.pins:
                pin.value(1 if high else 0)
            await sleep_ms(on_ms)
            for pin, high in self.pins:
                pin.value(0 if high else 1)
            await sleep_ms(on_ms)

    async def good(self):
        self.good_count += 1
        if self.pins:
            await self._pattern(GOOD)

    async def error(self):
        self.error_count += 1
        if self.pins:
            await self._pattern(ERROR)
