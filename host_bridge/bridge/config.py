"""The bridge's config file (TOML), validated with errors that name the key and say what to write.

Defaults make `electeur run` work with no file at all: API on loopback, journal and token
in the user's data/config directories, JSON lines on stdout off, no webhook, no MQTT.
"""

from __future__ import annotations

import secrets
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from host_bridge.errors import UserError

APP = "electeur"


def config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP, appauthor=False))


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP, appauthor=False))


@dataclass
class Webhook:
    url: str
    token: str | None = None


@dataclass
class Mqtt:
    host: str
    port: int = 1883
    prefix: str = "electeur"
    username: str | None = None
    password: str | None = None


@dataclass
class Epu:
    url: str | None = None  # None: $ELECTEUR_EPU_URL, else the local sandbox (`electeur epu-sandbox`)
    token: str | None = None
    timeout_s: float = 2.0


@dataclass
class Config:
    path: Path | None = None
    devices: list[str] = field(default_factory=lambda: ["auto"])
    api_host: str = "127.0.0.1"
    api_port: int = 8765
    token: str | None = None
    journal: Path = field(default_factory=lambda: data_dir() / "journal.sqlite")
    journal_key: Path = field(default_factory=lambda: config_dir() / "journal.key")
    pairings: Path = field(default_factory=lambda: config_dir() / "pairings.json")    # Wi-Fi readers' keys
    retention_days: float = 90.0
    log_identifiers: bool = False
    stdout: bool = False
    webhooks: list[Webhook] = field(default_factory=list)
    mqtt: Mqtt | None = None
    retry_first_s: float = 0.2          # a failing sink is retried after this, doubling up to retry_max_s
    retry_max_s: float = 30.0
    epu: Epu | None = field(default_factory=Epu)


# key -> (type(s), description used in errors)
_TOP: dict[str, tuple[Any, str]] = {
    "devices": (list, "a list of 'auto', serial port names or 'tcp://HOST:PORT'"),
    "api": (str, "'HOST:PORT', e.g. '127.0.0.1:8765'"),
    "token": (str, "a string of at least 16 characters"),
    "journal": (str, "a file path"),
    "journal_key": (str, "a file path"),
    "pairings": (str, "a file path"),
    "retention_days": ((int, float), "a number of days > 0"),
    "log_identifiers": (bool, "true or false"),
    "sinks": (dict, "a table with keys stdout, webhook, mqtt"),
    "epu": (dict, "a table {enabled = true, url = 'http://...', token = '...', timeout_s = 2}"),
}
_SINKS = {"stdout": (bool, "true or false"), "webhook": (list, "a list of tables {url = '...', token = '...'}"),
          "mqtt": (dict, "a table {host = '...', port = 1883, prefix = 'electeur'}"),
          "retry_first_s": ((int, float), "a number of seconds > 0"),
          "retry_max_s": ((int, float), "a number of seconds > 0")}


def _check(table: dict[str, Any], allowed: dict[str, tuple[Any, str]], where: str) -> None:
    for key, value in table.items():
        if key not in allowed:
            raise UserError(f"{where}: unknown key '{key}' (known: {', '.join(sorted(allowed))})")
        kind, what = allowed[key]
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise UserError(f"{where}: '{key}' must be {what}, not {value!r}")


def parse_hostport(text: str, what: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:
        raise UserError(f"{what} must be HOST:PORT with a port 1-65535, not {text!r}")
    return host.strip("[]"), int(port)


def check_device(text: str, where: str) -> str:
    if not isinstance(text, str) or not text:
        raise UserError(f"{where}: each device must be 'auto', a serial port or 'tcp://HOST:PORT', not {text!r}")
    if text.startswith("tcp://"):
        parse_hostport(text[6:], f"{where}: device {text!r}")
    return text


def _webhook(item: Any, where: str) -> Webhook:
    if not isinstance(item, dict):
        raise UserError(f"{where}: must be a table {{url = 'https://...'}}, not {item!r}")
    _check(item, {"url": (str, "an http(s) URL"), "token": (str, "a string")}, where)
    if not str(item.get("url", "")).startswith(("http://", "https://")):
        raise UserError(f"{where}: 'url' must be an http:// or https:// URL, not {item.get('url')!r}")
    return Webhook(item["url"], item.get("token"))


def _mqtt(item: dict[str, Any], where: str) -> Mqtt:
    _check(item, {"host": (str, "a host name"), "port": (int, "a port number"), "prefix": (str, "a topic prefix"),
                  "username": (str, "a string"), "password": (str, "a string")}, where)
    if "host" not in item:
        raise UserError(f"{where}: 'host' is required")
    if not 0 < item.get("port", 1883) < 65536:
        raise UserError(f"{where}: 'port' must be 1-65535")
    if any(c in item.get("prefix", "electeur") for c in "+#") or not item.get("prefix", "electeur"):
        raise UserError(f"{where}: 'prefix' must be a non-empty topic without wildcards")
    return Mqtt(**item)


def load(path: Path | None) -> Config:
    """The config from `path` (or defaults when None); UserError with file, key and fix on any mistake."""
    cfg = Config(path=path)
    if path is None:
        return cfg
    try:
        doc = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"config file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read config file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"config file {path} is not valid TOML: {exc}") from None
    where = str(path)
    _check(doc, _TOP, where)
    if "devices" in doc:
        cfg.devices = [check_device(d, where) for d in doc["devices"]] or ["auto"]
    if "api" in doc:
        cfg.api_host, cfg.api_port = parse_hostport(doc["api"], f"{where}: 'api'")
    if "token" in doc:
        if len(doc["token"]) < 16:
            raise UserError(f"{where}: 'token' must be at least 16 characters")
        cfg.token = doc["token"]
    if "journal" in doc:
        cfg.journal = Path(doc["journal"]).expanduser()
    if "journal_key" in doc:
        cfg.journal_key = Path(doc["journal_key"]).expanduser()
    if "pairings" in doc:
        cfg.pairings = Path(doc["pairings"]).expanduser()
    if "retention_days" in doc:
        if doc["retention_days"] <= 0:
            raise UserError(f"{where}: 'retention_days' must be > 0, not {doc['retention_days']}")
        cfg.retention_days = float(doc["retention_days"])
    cfg.log_identifiers = doc.get("log_identifiers", False)
    sinks = doc.get("sinks", {})
    _check(sinks, _SINKS, f"{where} [sinks]")
    cfg.stdout = sinks.get("stdout", False)
    cfg.webhooks = [_webhook(w, f"{where} [[sinks.webhook]] #{i + 1}") for i, w in enumerate(sinks.get("webhook", []))]
    if "mqtt" in sinks:
        cfg.mqtt = _mqtt(sinks["mqtt"], f"{where} [sinks.mqtt]")
    cfg.retry_first_s = float(sinks.get("retry_first_s", cfg.retry_first_s))
    cfg.retry_max_s = float(sinks.get("retry_max_s", cfg.retry_max_s))
    if not 0 < cfg.retry_first_s <= cfg.retry_max_s <= 3600:
        raise UserError(f"{where} [sinks]: need 0 < retry_first_s <= retry_max_s <= 3600 seconds, "
                        f"not {cfg.retry_first_s} and {cfg.retry_max_s}")
    if "epu" in doc:
        cfg.epu = _epu(doc["epu"], f"{where} [epu]")
    return cfg


def _epu(item: dict[str, Any], where: str) -> Epu | None:
    _check(item, {"enabled": (bool, "true or false"), "url": (str, "an http(s) URL"), "token": (str, "a string"),
                  "timeout_s": ((int, float), "a number of seconds")}, where)
    if not item.get("enabled", True):
        return None
    if "url" in item and not item["url"].startswith(("http://", "https://")):
        raise UserError(f"{where}: 'url' must be an http:// or https:// URL, not {item['url']!r}")
    if not 0 < item.get("timeout_s", 2.0) <= 30:
        raise UserError(f"{where}: 'timeout_s' must be between 0 and 30 seconds")
    return Epu(item.get("url"), item.get("token"), float(item.get("timeout_s", 2.0)))


def ensure_token(cfg: Config) -> tuple[str, bool]:
    """The API token: from the config, else from the token file, else generated and saved. (token, new)."""
    if cfg.token:
        return cfg.token, False
    path = config_dir() / "token"
    try:
        token = path.read_text(encoding="ascii").strip()
        if len(token) >= 16:
            return token, False
    except (OSError, UnicodeDecodeError):
        pass
    token = secrets.token_urlsafe(24)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(token + "\n", encoding="ascii")
    path.chmod(0o600)
    return token, True
