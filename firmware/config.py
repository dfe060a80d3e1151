# Reader configuration: a JSON file on flash, validated, with defaults. A bad file never stops the
# reader: bad keys fall back to their defaults and the problems are reported as error messages.
import json

PATH = "/config.json"

# Light profiles stepped through while a code is in view and does not read: the LED, and the exposure in
# percent of the camera's automatic exposure (100 = automatic; 25 = a quarter, for a glaring phone screen).
LIGHT_PROFILES = [{"led": True, "exposure": 100}, {"led": False, "exposure": 25}, {"led": False, "exposure": 100}]
EXPOSURE = (5, 400)

# key: (default, kind, choices or (min, max)); a list's rule is (min, max) items
SCHEMA = {
    "reader_id": (1, int, (0, 65535)),
    "name": ("", str, (0, 32)),
    "output": ("framed", str, ("framed", "line", "hid", "tcp")),
    "decode": ("auto", str, ("auto", "board", "host")),
    "stream_format": ("gray8", str, ("gray8", "jpeg")),
    "frame_size": ("QVGA", str, ("QQVGA", "QVGA", "VGA", "SVGA", "HD", "UXGA")),
    "dedupe_ms": (3000, int, (0, 60000)),
    "change_threshold": (8, int, (0, 255)),
    "presence_edges": (6, int, (0, 255)),
    "line_prefix": ("", str, (0, 16)),
    "line_suffix": ("\r\n", str, (0, 4)),
    "hid_layout": ("azerty", str, ("azerty", "azerty-linux", "qwerty")),
    "hid_suffix": ("enter", str, ("enter", "tab", "none")),
    "hid_key_delay_ms": (8, int, (0, 200)),
    "hid_gs": ("<GS>", str, (1, 8)),
    "hid_rs": ("<RS>", str, (1, 8)),
    "hid_us": ("<US>", str, (1, 8)),
    "hid_fallback": ("refuse", str, ("refuse", "alt", "substitute")),
    "hid_substitute": ("?", str, (1, 8)),
    "hid_max_len": (512, int, (1, 4096)),
    "heartbeat_ms": (5000, int, (0, 600000)),
    "frame_ack_ms": (2000, int, (10, 60000)),
    "outbox_max": (16, int, (1, 64)),
    "outbox_wait_ms": (30000, int, (0, 600000)),
    "ack_feedback_ms": (1500, int, (100, 60000)),
    "tcp_port": (7373, int, (1, 65535)),
    "illumination": ("auto", str, ("auto", "on", "off")),
    "camera": ("board", str, ("board", "sim")),
    "light_profiles": (LIGHT_PROFILES, list, (1, 8)),
    "pair_key": ("", str, (0, 64)),     # the paired link's secret, 64 hex digits ("": not paired); never sent back
}
SECRET = "pair_key"
HEX = "0123456789abcdef"


def defaults():
    return dict((k, list(v[0]) if v[1] is list else v[0]) for k, v in SCHEMA.items())


def check_profiles(key, value, rule):
    """None when `value` is a list of light profiles {"led": bool, "exposure": percent}, else a message."""
    if not isinstance(value, list) or not rule[0] <= len(value) <= rule[1]:
        return "%s must be a list of %d to %d profiles" % (key, rule[0], rule[1])
    for p in value:
        if not isinstance(p, dict) or sorted(p) != ["exposure", "led"] or not isinstance(p["led"], bool):
            return '%s: each profile is {"led": true|false, "exposure": percent}' % key
        e = p["exposure"]
        if not isinstance(e, int) or isinstance(e, bool) or not EXPOSURE[0] <= e <= EXPOSURE[1]:
            return "%s: exposure must be between %d and %d (percent; 100 = automatic)" % (key, EXPOSURE[0], EXPOSURE[1])
    return None


def check(key, value):
    """None when `value` is valid for `key`, else a message."""
    if key not in SCHEMA:
        return "unknown key '%s'" % key
    default, kind, rule = SCHEMA[key]
    if kind is list:
        return check_profiles(key, value, rule)
    if kind is int and (not isinstance(value, int) or isinstance(value, bool)):
        return "%s must be an integer" % key
    if kind is str and not isinstance(value, str):
        return "%s must be a string" % key
    if key == SECRET and value and (len(value) != 64 or [c for c in value if c not in HEX]):
        return "pair_key must be 64 lowercase hex digits (or empty: not paired)"
    if kind is int and not rule[0] <= value <= rule[1]:
        return "%s must be between %d and %d" % (key, rule[0], rule[1])
    if kind is str and isinstance(rule[0], int) and not rule[0] <= len(value) <= rule[1]:
        return "%s must be %d to %d characters" % (key, rule[0], rule[1])
    if kind is str and isinstance(rule[0], str) and value not in rule:
        return "%s must be one of %s" % (key, ", ".join(rule))
    return None


def validate(obj, base=None):
    """(config, errors): `obj`'s valid keys over `base` (defaults), and a message per rejected key."""
    cfg = dict(base) if base else defaults()
    errors = []
    if not isinstance(obj, dict):
        return cfg, ["configuration is not a JSON object"]
    for key in obj:
        msg = check(key, obj[key])
        if msg:
            errors.append(msg)
        else:
            cfg[key] = obj[key]
    return cfg, errors


def public(cfg):
    """The configuration as the reader tells it (CONFIG): the pairing key replaced by its fingerprint."""
    from firmware.hmac256 import fingerprint
    out = dict(cfg)
    key = out.pop(SECRET, "")
    out["paired"] = fingerprint(bytes.fromhex(key)) if key else ""
    return out


def load(path=PATH):
    """(config, errors); a missing file is the defaults without error, an unreadable one the defaults
    with an error."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return defaults(), []
    if data[:3] == b"\xef\xbb\xbf":  # the byte order mark Windows Notepad writes: not part of the JSON
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except Exception:  # UnicodeDecodeError on CPython, UnicodeError on MicroPython
        return defaults(), ["%s is not UTF-8 text: defaults used" % path]
    try:
        obj = json.loads(text)
    except Exception:  # ValueError, or RecursionError/RuntimeError when nested too deeply
        return defaults(), ["%s is not valid JSON (or nested too deeply): defaults used" % path]
    return validate(obj)


def save(cfg, path=PATH):
    """Write atomically where the filesystem allows (write a temp file, then rename)."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(json.dumps(cfg))
    try:
        import os
        getattr(os, "replace", os.rename)(tmp, path)
    except (ImportError, OSError):
        with open(path, "w") as f:
            f.write(json.dumps(cfg))
