# Camera backends. Each gives frames as (kind, width, height, data, captured_ms): kind 0 = gray8
# (width*height bytes, row major), 1 = JPEG. Drivers for real boards are imported only when chosen.
# Config `camera`: "board" (the profile's driver) or "sim" (the simulated camera, frames listed in
# /frames/frames.txt on the board's flash: a test bench without a camera).
SIZES = {"QQVGA": (160, 120), "QVGA": (320, 240), "VGA": (640, 480), "SVGA": (800, 600),
         "HD": (1280, 720), "UXGA": (1600, 1200)}
SIM_FRAMES = "/frames"


class NoCamera:
    """Stands in for a camera that did not start: no frames, and `error` says why (the reader reports it
    over the wire and keeps its link alive)."""
    driver = "none"

    def __init__(self, error):
        self.error = error

    def capture(self):
        return None

    def set_light(self, on):
        pass

    def close(self):
        pass


def driver(board, cfg):
    """The camera driver in use: the simulated one when config `camera` is "sim", else the profile's."""
    return "sim" if cfg.get("camera") == "sim" else board["camera"]["driver"]


def open_camera(board, cfg, root=""):
    """The camera in use (`driver`), or a NoCamera saying why it did not start: a reader without its camera
    still answers the host."""
    name = driver(board, cfg)
    try:
        cam = _open(name, board, cfg, root)
    except Exception as exc:        # absent, miswired, no driver in the image: all the same to the host
        return NoCamera("%s camera did not start: %s" % (name, exc))
    cam.driver = name
    return cam


def _open(name, board, cfg, root):
    if name == "sim":
        from firmware.camera.image_files import SimCamera, listed
        return SimCamera(listed(root + SIM_FRAMES), 1000, True)
    if name == "esp32_camera":
        from firmware.camera.esp32 import Esp32Camera
        return Esp32Camera(board["camera"], cfg, board.get("led"))
    if name == "openmv_sensor":
        from firmware.camera.openmv import OpenMVCamera
        return OpenMVCamera(cfg)
    if name == "arducam_spi":
        from firmware.camera.arducam import ArducamCamera
        return ArducamCamera(board["camera"], cfg)
    raise ValueError("unknown camera driver '%s'" % name)
