# Runs ON the board (MicroPython), sent by `electeur selftest --board NAME` through the raw REPL; the host
# prepends `PROFILE = <the board profile>`. Prints one dict shaped as host_bridge.devtools.selftest reads it.
# Works on a freshly flashed board: it needs only MicroPython, the camera driver and the profile's pins.
import gc
import time

try:
    import json
except ImportError:
    import ujson as json


def _ms():
    return time.ticks_ms() if hasattr(time, "ticks_ms") else int(time.time() * 1000)


def _since(t0):
    return time.ticks_diff(_ms(), t0) if hasattr(time, "ticks_diff") else _ms() - t0


def _esp32_camera(cam):
    from camera import Camera, FrameSize, PixelFormat

    p = cam["pins"]
    c = Camera(data_pins=[p["d%d" % i] for i in range(8)], vsync_pin=p["vsync"], href_pin=p["href"],
               sda_pin=p["sda"], scl_pin=p["scl"], pclk_pin=p["pclk"], xclk_pin=p["xclk"],
               xclk_freq=cam.get("xclk_hz", 20000000), powerdown_pin=p["pwdn"], reset_pin=p["reset"],
               pixel_format=PixelFormat.GRAYSCALE, frame_size=FrameSize.QVGA)
    return c.capture, c.deinit


def _openmv_camera(cam):
    import sensor

    sensor.reset()
    sensor.set_pixformat(sensor.GRAYSCALE)
    sensor.set_framesize(sensor.QVGA)
    sensor.skip_frames(time=300)
    return sensor.snapshot, None


def _arducam_spi(cam):
    # ArduCAM SPI protocol (its C header): write [addr | 0x80, val], read [addr & 0x7F]; 0x00 is a test register.
    from machine import I2C, SPI, Pin

    p = cam["pins"]
    cs = Pin(p["cs"], Pin.OUT, value=1)
    spi = SPI(p["spi"], baudrate=cam.get("spi_hz", 8000000), sck=Pin(p["sck"]), mosi=Pin(p["mosi"]),
              miso=Pin(p["miso"]))

    def xfer(data):
        buf = bytearray(len(data))
        cs(0)
        spi.write_readinto(bytes(data), buf)
        cs(1)
        return buf

    xfer([0x80, 0x55])
    if xfer([0x00, 0])[1] != 0x55:
        raise OSError("SPI test register did not read back: check CS GP%d, MOSI, MISO, SCK" % p["cs"])
    if 0x30 not in I2C(p["i2c"], sda=Pin(p["sda"]), scl=Pin(p["scl"])).scan():
        raise OSError("no OV2640 at I2C 0x30: check SDA GP%d and SCL GP%d" % (p["sda"], p["scl"]))
    return None, None  # capturing needs the sensor's init tables: the reader's own driver measures the fps


def _camera(cam):
    opener = {"esp32_camera": _esp32_camera, "openmv_sensor": _openmv_camera, "arducam_spi": _arducam_spi}
    report = {"present": False, "sensor": cam["sensor"], "frame_size": "QVGA", "fps": None, "error": None}
    frame = None
    try:
        grab, close = opener[cam["driver"]](cam)
        report["present"] = True
        if grab is not None:
            frame = grab()
            t0, n = _ms(), 3
            for _ in range(n):
                frame = grab()
            report["fps"] = n * 1000 / max(1, _since(t0))
            if frame is None:
                report["present"], report["error"] = False, "capture returned no frame"
        if close is not None:
            close()
    except Exception as e:
        report["error"] = "%s: %s" % (type(e).__name__, e)
    return report, frame


def _decoder(frame):
    if frame is not None and hasattr(frame, "find_qrcodes"):
        t0 = _ms()
        frame.find_qrcodes()
        return {"backend": "openmv", "ms_per_frame": max(1, _since(t0))}
    for module, backend in (("quirc", "quirc"), ("firmware", "micropython")):
        try:
            __import__(module)
            return {"backend": backend, "ms_per_frame": None}
        except ImportError:
            pass
    return {"backend": "none", "ms_per_frame": None}


def _config(outputs):
    try:
        with open("config.json") as f:
            config = json.load(f)
    except OSError:
        return None, {"ok": False, "errors": ["no config.json on the board: run electeur deploy"]}
    except ValueError as e:
        return None, {"ok": False, "errors": ["config.json is not JSON (%s)" % e]}
    if not isinstance(config, dict):
        return None, {"ok": False, "errors": ["config.json must hold an object"]}
    output = config.get("output")
    errors = [] if output in outputs else ["output %r is not one of %s" % (output, ", ".join(outputs))]
    return output, {"ok": not errors, "errors": errors}


def probe(profile):
    camera, frame = _camera(profile["camera"])
    decoder = _decoder(frame)
    frame = None
    output, config = _config(profile["outputs"])
    try:
        import machine

        usb_device = hasattr(machine, "USBDevice")
    except ImportError:
        usb_device = False
    try:
        __import__("usb.device.keyboard")  # micropython-lib usb-device-keyboard, installed with mip
        keyboard_lib = True
    except ImportError:
        keyboard_lib = False
    gc.collect()
    return {"board": profile["name"], "camera": camera, "decoder": decoder, "output": output,
            "usb": {"native": profile["usb"]["native"], "hid": profile["usb"]["native"] and usb_device,
                    "keyboard_lib": keyboard_lib},
            "mem_free": gc.mem_free() if hasattr(gc, "mem_free") else None, "config": config}


print(repr(probe(PROFILE)))
