# The scan loop: capture -> changed? -> decode on board (or stream the frame) -> dedupe -> output ->
# feedback. Nothing board-specific here: camera, decoder, output and feedback come in as objects.

from firmware.clock import pause, sleep_ms, ticks_diff, ticks_ms
from firmware.dedupe import Dedupe
from firmware.outputs import Refused
from firmware.presence import ChangeDetector, Light, edges


class ScanLoop:
    def __init__(self, cfg, camera, decoder, output, feedback, watchdog=None):
        self.cfg = cfg
        self.camera = camera
        self.decoder = decoder
        self.output = output
        self.feedback = feedback
        self.watchdog = watchdog
        self.dedupe = Dedupe(cfg["dedupe_ms"])
        self.detector = ChangeDetector(cfg["change_threshold"])
        self.light = Light(camera, cfg["illumination"], cfg["light_profiles"])
        self.stats = {"frames": 0, "decoded": 0, "streamed": 0, "reads": 0, "refused": 0, "skipped": 0, "empty": 0}
        self._beat = ticks_ms()
        if hasattr(output, "on_frame_read"):    # streaming: the host's word on a frame steps the light as a decode
            output.on_frame_read = self.light.result
        self.decode_ms = None           # how long the last on-board decode took

    def streaming(self):
        return self.decoder is None or self.cfg["decode"] == "host"

    async def step(self):
        """One frame; False when the camera has no more frames (the simulator's last image)."""
        self.output.poll()              # before the capture: an ACK that steps the light applies to this frame
        frame = self.camera.capture()
        under = self.light.index
        self.feed()
        self._heartbeat()
        if frame is None:
            if getattr(self.camera, "error", None):     # no camera: the link stays alive and says why
                await sleep_ms(20)
                return True
            return False
        self.stats["frames"] += 1
        changed = self.detector.changed(frame)
        changed = self.light.seen(self.detector.moved) or changed
        if not changed:
            self.stats["skipped"] += 1
        elif self.streaming():
            await self.output.wait_frame()
            if under == self.light.index:
                await self.output.send_frame(frame)
                self.stats["streamed"] += 1
            else:               # the host's word on the last frame stepped the light: this one is stale
                self.stats["skipped"] += 1
        elif edges(frame) < self.cfg["presence_edges"]:    # nothing code-like in view: no decode
            self.stats["empty"] += 1
            self.light.result(False)    # something moved and shows no code: as a decode that read nothing
        else:
            await self._decode(frame)
        frame = None
        await pause()
        return True

    async def _decode(self, frame):
        self.stats["decoded"] += 1
        self.feed()                     # a decode gets the watchdog's whole timeout (8 s; 1 s on a Pico today)
        t = ticks_ms()
        reads = self.decoder.decode(frame)
        self.decode_ms = ticks_diff(ticks_ms(), t)
        self.feed()
        self.light.result(bool(reads))
        captured = frame[4]
        for payload, fmt in reads:
            if not self.dedupe.fresh(payload, captured):
                continue
            try:
                delivered = await self.output.emit(payload, fmt, self.decoder.name, captured)
                self.stats["reads"] += 1
                if delivered:           # framed/tcp: the output gives it when the host's ACK arrives
                    await self.feedback.good()
            except Refused as exc:
                self.stats["refused"] += 1
                self._refused(str(exc))
                await self.feedback.error()

    def _refused(self, why):
        """Say why a read was refused on the console (USB serial, stderr) when the output has no host to tell
        (hid, line); framed and tcp outputs send their own ERROR."""
        if not hasattr(self.output, "error"):
            import sys
            sys.stderr.write("e-lecteur: lecture refusee : %s\n" % why)

    def _heartbeat(self):
        every = self.cfg["heartbeat_ms"]
        now = ticks_ms()
        due = every and ticks_diff(now, self._beat) >= every
        if (due or getattr(self.output, "status_wanted", False)) and hasattr(self.output, "status"):
            self._beat = now
            obj = dict(self.stats)
            obj["uptime_ms"] = now
            if self.decode_ms is not None:
                obj["decode_ms"] = self.decode_ms
            if getattr(self.camera, "error", None):
                obj["camera_error"] = self.camera.error
            free = mem_free()
            if free is not None:
                obj["mem_free"] = free
            self.output.status(obj)

    async def run(self, idle_at_end=False):
        """Scan until the camera ends; then deliver what is pending, and idle if asked (pty simulator)."""
        while await self.step():
            pass
        await self.output.drain(30000)
        while idle_at_end:
            self.output.poll()
            self.feed()
            await sleep_ms(20)

    def feed(self):
        if self.watchdog:
            self.watchdog.feed()


def mem_free():
    """Free heap in bytes after a collection (MicroPython); None where the runtime has no such figure (CPython)."""
    import gc
    if not hasattr(gc, "mem_free"):
        return None
    gc.collect()
    return gc.mem_free()
