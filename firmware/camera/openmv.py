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

    def close(self):
        pass
