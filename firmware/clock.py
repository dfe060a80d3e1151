# Milliseconds that wrap like MicroPython's ticks, on both runtimes.
import time

if hasattr(time, "ticks_ms"):
    ticks_ms = time.ticks_ms
    ticks_diff = time.ticks_diff
else:
    def ticks_ms():
        return int(time.monotonic() * 1000) & 0x3FFFFFFF

    def ticks_diff(a, b):
        d = (a - b) & 0x3FFFFFFF
        return d - 0x40000000 if d >= 0x20000000 else d


try:
    import asyncio
    sleep_ms = asyncio.sleep_ms if hasattr(asyncio, "sleep_ms") else None
except ImportError:
    asyncio = None
    sleep_ms = None

if sleep_ms is None:
    async def sleep_ms(ms):
        await asyncio.sleep(ms / 1000)
