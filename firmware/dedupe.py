# Duplicate suppression: a reader facing the patient sees the same code in many frames for seconds.
# A payload is emitted again only once it has been out of view for `delay_ms` (as commercial imagers
# do: "the code must leave the field of view before it is read again").
from firmware.clock import ticks_diff


class Dedupe:
    def __init__(self, delay_ms=3000, size=8):
        self.delay_ms = delay_ms
        self.size = size
        self._last = {}                 # payload -> ticks when last seen

    def fresh(self, payload, now):
        """True when `payload` should be emitted now; every sighting refreshes its timer. A time before the
        last sighting is a rebooted reader's clock (the host dedupes streamed frames on it): a new read."""
        last = self._last.get(payload)
        self._last[payload] = now
        if last is not None and 0 <= ticks_diff(now, last) < self.delay_ms:
            return False
        if len(self._last) > self.size:
            oldest = None
            for k, t in self._last.items():
                if oldest is None or ticks_diff(t, self._last[oldest]) < 0:
                    oldest = k
            del self._last[oldest]
        return True

    def forget(self, payload):
        """A read that could not be delivered (the host's journal full): the next sighting is a new read."""
        self._last.pop(payload, None)
