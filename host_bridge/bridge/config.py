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
from urllib.parse import urlsplit

import platformdirs

from host_bridge.bridge.private import create_private
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
    ca_file: str | None = None          # the LGO's own CA (verification stays on)
    minimal: bool = False               # send `minimise(lookup)`: no NIR, names, birth date, raw payload


@dataclass
class Mqtt:
    host: str
    port: int = 1883
    prefix: str = "electeur"
    username: str | None = None
    password: str | None = None
    tls: bool = False                   # verification on; port 8883 unless given
    ca_file: str | None = None
    cert_file: str | None = None        # client certificate (with key_file) for brokers that require one
    key_file: str | None = None
    minimal: bool = False


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
    api_cert: Path | None = None        # TLS for the API (required to listen beyond loopback), with api_key
    api_key: Path | None = None
    api_origins: list[str] = field(default_factory=list)   # https:// addresses the counter pages are opened at
    token: str | None = None
    journal: Path = field(default_factory=lambda: data_dir() / "journal.sqlite")
    journal_key: Path | str = field(default_factory=lambda: config_dir() / "journal.key")   # or "keyring"
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
    "api_cert": (str, "a PEM certificate file path"),
    "api_key": (str, "a PEM private key file path"),
    "api_origins": (list, "a list of 'https://HOST:PORT' addresses the counter pages are opened at"),
    "token": (str, "a string of at least 16 characters"),
    "journal": (str, "a file path"),
    "journal_key": (str, "a file path, or \"keyring\" (the OS keyring)"),
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
    _check(item, {"url": (str, "an http(s) URL"), "token": (str, "a string"), "ca_file": (str, "a PEM file path"),
                  "minimal": (bool, "true or false")}, where)
    if not str(item.get("url", "")).startswith(("http://", "https://")):
        raise UserError(f"{where}: 'url' must be an http:// or https:// URL, not {item.get('url')!r}")
    _files(item, ("ca_file",), where)
    return Webhook(**item)


def _mqtt(item: dict[str, Any], where: str) -> Mqtt:
    _check(item, {"host": (str, "a host name"), "port": (int, "a port number"), "prefix": (str, "a topic prefix"),
                  "username": (str, "a string"), "password": (str, "a string"), "tls": (bool, "true or false"),
                  "ca_file": (str, "a PEM file path"), "cert_file": (str, "a PEM file path"),
                  "key_file": (str, "a PEM file path"), "minimal": (bool, "true or false")}, where)
    if "host" not in item:
        raise UserError(f"{where}: 'host' is required")
    if not 0 < item.get("port", 1883) < 65536:
        raise UserError(f"{where}: 'port' must be 1-65535")
    if any(c in item.get("prefix", "electeur") for c in "+#") or not item.get("prefix", "electeur"):
        raise UserError(f"{where}: 'prefix' must be a non-empty topic without wildcards")
    tls_keys = [k for k in ("ca_file", "cert_file", "key_file") if k in item]
    if tls_keys and not item.get("tls"):
        raise UserError(f"{where}: {', '.join(tls_keys)} need tls = true")
    if ("cert_file" in item) != ("key_file" in item):
        raise UserError(f"{where}: a client certificate needs both cert_file and key_file")
    _files(item, tls_keys, where)
    return Mqtt(**{"port": 8883 if item.get("tls") else 1883, **item})


def _files(item: dict[str, Any], keys: Any, where: str) -> None:
    for key in keys:
        if key in item and not Path(item[key]).expanduser().is_file():
            raise UserError(f"{where}: '{key}' {item[key]!r} is not a readable file")


def load(path: Path | None) -> Config:
    """The config from `path` (or defaults when None); UserError with file, key and fix on any mistake."""
    cfg = Config(path=path)
    if path is None:
        return cfg
    try:
        doc = tomllib.loads(Path(path).read_text(encoding="utf-8-sig"))  # Windows Notepad may add a BOM
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
    _files(doc, ("api_cert", "api_key"), where)
    if ("api_cert" in doc) != ("api_key" in doc):
        raise UserError(f"{where}: TLS for the API needs both 'api_cert' and 'api_key'")
    if "api_cert" in doc:
        cfg.api_cert, cfg.api_key = Path(doc["api_cert"]).expanduser(), Path(doc["api_key"]).expanduser()
    for origin in doc.get("api_origins", []):
        parts = urlsplit(origin) if isinstance(origin, str) else None
        if not parts or parts.scheme != "https" or not parts.hostname or parts.path or parts.query:
            raise UserError(f"{where}: each of 'api_origins' must be 'https://HOST[:PORT]' (no path), not {origin!r}")
    cfg.api_origins = list(doc.get("api_origins", []))
    if "token" in doc:
        if len(doc["token"]) < 16:
            raise UserError(f"{where}: 'token' must be at least 16 characters")
        cfg.token = doc["token"]
    if "journal" in doc:
        cfg.journal = Path(doc["journal"]).expanduser()
    if "journal_key" in doc:
        cfg.journal_key = doc["journal_key"] if doc["journal_key"] == "keyring" else Path(doc["journal_key"]).expanduser()
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


def token_where(cfg: Config, *, given: bool = False) -> str:
    """Where the API token is, said to whoever needs it (the page's "jeton requis", `electeur run`)."""
    if given:
        return "given to electeur run with --token"
    if cfg.token:
        return f"'token' in {cfg.path}"
    return str(config_dir() / "token")


def ensure_token(cfg: Config) -> tuple[str, bool]:
    """The API token: from the config, else from the token file, else generated and saved. (token, new)."""
    if cfg.token:
        return cfg.token, False
    path = config_dir() / "token"
    created = not path.exists() and create_private(path, secrets.token_urlsafe(24) + "\n")
    try:
        token = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read the API token file {path}: {exc}") from None
    if len(token) < 16:
        raise UserError(f"the API token file {path} holds no token (16 characters or more): delete it and a new "
                        "one is made on start, or set 'token' in the config")
    return token, created
