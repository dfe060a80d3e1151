# Board profile: pins, camera, USB capability, LED/buzzer, from a data file (hardware/boards/<name>.json).
# On a board the profile is copied to /board.json; on the host it is read from the repository.
import json

SIM = {
    "schema": 1, "name": "sim", "title": "Simulated reader (camera frames from image files)",
    "mcu": "host", "port": "sim", "psram": False, "flash_kb": 0,
    "usb": {"native": True, "bridge": None, "vid": None, "pid": None, "hid": True},
    "wifi": True,                       # the host's network (tcp: the virtual Wi-Fi reader, on loopback)
    "camera": {"driver": "sim", "sensor": "files", "pins": {}, "gray_max": "UXGA", "lens": {"hfov_deg": 60}},
    "led": None, "buzzer": None, "outputs": ["framed", "line", "hid", "tcp"], "flash": None,
}

REQUIRED = ("name", "usb", "camera", "outputs")


class BoardError(Exception):
    pass


def _paths(name):
    yield "/board.json"
    try:
        base = __file__.rsplit("/", 2)[0]
        yield base + "/hardware/boards/" + name + ".json"
    except (AttributeError, IndexError):
        pass


def parse(text):
    try:
        prof = json.loads(text)
    except ValueError:
        raise BoardError("board profile is not JSON")
    if not isinstance(prof, dict):
        raise BoardError("board profile is not a JSON object")
    for key in REQUIRED:
        if key not in prof:
            raise BoardError("board profile lacks '%s'" % key)
    return prof


def load(name=None, path=None):
    """The profile named `name` (or the file at `path`, or /board.json on a device); 'sim' is built in."""
    if name == "sim":
        return SIM
    for p in ([path] if path else _paths(name or "")):
        try:
            with open(p) as f:
                prof = parse(f.read())
        except OSError:
            continue
        if name and prof["name"] != name and not path:
            continue
        return prof
    raise BoardError("no board profile '%s'" % (name or path or "/board.json"))


def can(prof, output):
    """Whether the board supports an output mode (hid needs native USB)."""
    if output == "hid" and not prof["usb"].get("hid"):
        return False
    return output in prof["outputs"]
