# Camera backends. Each gives frames as (kind, width, height, data, captured_ms): kind 0 = gray8
# (width*height bytes, row major), 1 = JPEG. Drivers for real boards are imported only when chosen.
SIZES = {"QQVGA": (160, 120), "QVGA": (320, 240), "VGA": (640, 480), "SVGA": (800, 600),
         "HD": (1280, 720), "UXGA": (1600, 1200)}


def open_camera(board, cfg, images=None, show_ms=0, loop=False):
    """The camera the board profile names (camera.driver)."""
    driver = board["camera"]["driver"]
    if driver == "sim":
        from firmware.camera.image_files import SimCamera
        return SimCamera(images or [], show_ms, loop)
    if driver == "esp32_camera":
        from firmware.camera.esp32 import Esp32Camera
        return Esp32Camera(board["camera"], cfg, board.get("led"))
    if driver == "openmv_sensor":
        from firmware.camera.openmv import OpenMVCamera
        return OpenMVCamera(cfg)
    if driver == "arducam_spi":
        from firmware.camera.arducam import ArducamCamera
        return ArducamCamera(board["camera"], cfg)
    raise ValueError("unknown camera driver '%s'" % driver)
