# ESP32 camera boards with cnadler86/micropython-camera-API (`camera.Camera`); only imported on ESP32.
from camera import Camera, FrameSize, PixelFormat

PIN_KEYS = {"xclk": "xclk_pin", "pclk": "pclk_pin", "vsync": "vsync_pin", "href": "href_pin",
            "sda": "sda_pin", "scl": "scl_pin", "pwdn": "powerdown_pin", "reset": "reset_pin"}


class Esp32Camera:
    def __init__(self, cam, cfg):
        pins = cam["pins"]
        kw = {"data_pins": [pins["d%d" % i] for i in range(8)]}
        for key, arg in PIN_KEYS.items():
            if key in pins:
                kw[arg] = pins[key]
        self.jpeg = cfg["decode"] == "host" and cfg["stream_format"] == "jpeg"
        kw["pixel_format"] = PixelFormat.JPEG if self.jpeg else PixelFormat.GRAYSCALE
        kw["frame_size"] = getattr(FrameSize, cfg["frame_size"])
        kw["xclk_freq"] = cam.get("xclk_hz", 20000000)
        self.cam = Camera(**kw)
        self.width, self.height = self.cam.get_pixel_width(), self.cam.get_pixel_height()

    def capture(self):
        import time
        buf = self.cam.capture()
        if buf is None:
            return None
        return (1 if self.jpeg else 0), self.width, self.height, buf, time.ticks_ms()

    def set_light(self, on):
        pass

    def close(self):
        self.cam.deinit()
