# OpenMV cameras: the `sensor` module; frames stay in the frame buffer, outside the heap.
import sensor
import time


class OpenMVCamera:
    def __init__(self, cfg):
        sensor.reset()
        sensor.set_pixformat(sensor.GRAYSCALE)
        sensor.set_framesize(getattr(sensor, cfg["frame_size"]))
        sensor.skip_frames(time=500)

    def capture(self):
        img = self.img = sensor.snapshot()
        return 0, img.width(), img.height(), img, time.ticks_ms()

    def set_light(self, on):
        pass

    def set_exposure(self, percent):
        """100: automatic exposure and gain; else that percent of the exposure auto chose, gain held."""
        if percent == 100:
            sensor.set_auto_exposure(True)
            sensor.set_auto_gain(True)
            self._auto_us = None
            return
        if getattr(self, "_auto_us", None) is None:
            self._auto_us = sensor.get_exposure_us()
        sensor.set_auto_gain(False)
        sensor.set_auto_exposure(False, exposure_us=max(1, self._auto_us * percent // 100))

    def close(self):
        pass
