# ESP32 camera boards with cnadler86/micropython-camera-API (`camera.Camera`); only imported on ESP32.
from camera import Camera, FrameSize, PixelFormat

PIN_KEYS = {"xclk": "xclk_pin", "pclk": "pclk_pin", "vsync": "vsync_pin", "href": "href_pin",
            "sda": "sda_pin", "scl": "scl_pin", "pwdn": "powerdown_pin", "reset": "reset_pin"}


class Esp32Camera:
    def __init__(self, cam, cfg, led=None):
        pins = cam["pins"]
        self.led = None
        if led and led.get("kind") == "flash" and isinstance(led.get("pin"), int):
            from machine import Pin
            self.led = (Pin(led["pin"], Pin.OUT), led.get("active_high", True))
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
        self._auto_aec = None

    def capture(self):
        import time
        buf = self.cam.capture()
        if buf is None:
            return None
        return (1 if self.jpeg else 0), self.width, self.height, buf, time.ticks_ms()

    def set_light(self, on):
        if self.led:
            pin, high = self.led
            pin.value(1 if on == high else 0)

    def set_exposure(self, percent):
        """100: automatic exposure and gain; else that percent of the value AEC had chosen (0-1200), gain 1x."""
        cam = self.cam
        if percent == 100:
            cam.set_exposure_ctrl(True)
            cam.set_gain_ctrl(True)
            self._auto_aec = None
            return
        if self._auto_aec is None:
            self._auto_aec = cam.get_aec_value() or 300
        cam.set_exposure_ctrl(False)
        cam.set_gain_ctrl(False)
        cam.set_agc_gain(0)
        cam.set_aec_value(max(0, min(1200, self._auto_aec * percent // 100)))

    def close(self):
        self.cam.deinit()
