"""Config file validation: every mistake is one clear line naming the key; `electeur run` says so and exits 2."""

from __future__ import annotations

import pytest

from host_bridge.bridge.config import load
from host_bridge.cli import main
from host_bridge.errors import UserError


def write(tmp_path, text: str):
    path = tmp_path / "electeur.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_full_config_is_read(tmp_path):
    cfg = load(write(tmp_path, """
devices = ["/dev/ttyUSB0", "tcp://10.0.0.5:7000"]
api = "127.0.0.1:9000"
token = "0123456789abcdef-long"
journal = "/tmp/x.sqlite"
retention_days = 30
[sinks]
stdout = true
webhook = [{url = "https://lgo.local/hook", token = "t"}]
mqtt = {host = "broker", port = 1884, prefix = "pharma"}
[epu]
url = "https://epu.example/api"
timeout_s = 1.5
"""))
    assert cfg.devices == ["/dev/ttyUSB0", "tcp://10.0.0.5:7000"] and (cfg.api_host, cfg.api_port) == ("127.0.0.1", 9000)
    assert cfg.retention_days == 30 and cfg.stdout and cfg.webhooks[0].url == "https://lgo.local/hook"
    assert (cfg.mqtt.host, cfg.mqtt.port, cfg.mqtt.prefix) == ("broker", 1884, "pharma")
    assert (cfg.epu.url, cfg.epu.timeout_s) == ("https://epu.example/api", 1.5)
    assert load(write(tmp_path, "[epu]\nenabled = false")).epu is None


@pytest.mark.parametrize("text, message", [
    ("apii = '1:2'", "unknown key 'apii'"),
    ("api = '127.0.0.1'", "HOST:PORT"),
    ("api = '127.0.0.1:99999'", "HOST:PORT"),
    ("retention_days = 0", "'retention_days' must be > 0"),
    ("retention_days = 'long'", "'retention_days' must be a number"),
    ("token = 'short'", "at least 16 characters"),
    ("devices = ['tcp://host']", "HOST:PORT"),
    ("log_identifiers = 1", "'log_identifiers' must be true or false"),
    ("[sinks]\nwebhook = [{url = 'ftp://x'}]", "http:// or https://"),
    ("[sinks]\nmqtt = {port = 1883}", "'host' is required"),
    ("[sinks]\nmqtt = {host = 'b', prefix = 'a/#'}", "without wildcards"),
    ("[sinks]\nkafka = true", "unknown key 'kafka'"),
    ("api = ", "not valid TOML"),
    ("[epu]\nurl = 'epu.local'", "http:// or https://"),
    ("[epu]\ntimeout_s = 120", "between 0 and 30"),
])
def test_mistakes_are_clear_errors(tmp_path, text, message):
    with pytest.raises(UserError, match=message.replace("(", r"\(")):
        load(write(tmp_path, text))


def test_run_reports_a_bad_config_in_one_line_and_exits_2(tmp_path, capsys):
    assert main(["run", "--config", str(write(tmp_path, "retention_days = -1"))]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "retention_days" in err[0] and "electeur.toml" in err[0]
    assert main(["run", "--config", str(tmp_path / "missing.toml")]) == 2
    assert "does not exist" in capsys.readouterr().err


@pytest.mark.parametrize("text, error", [
    ('[sinks]\nmqtt = {host = "b", ca_file = "FILE"}', "ca_file need tls = true"),
    ('[sinks]\nmqtt = {host = "b", tls = true, cert_file = "FILE"}', "needs both cert_file and key_file"),
    ('[sinks]\nmqtt = {host = "b", tls = true, ca_file = "/nonexistent/ca.pem"}',
     "'ca_file' '/nonexistent/ca.pem' is not a readable file"),
    ('[sinks]\nwebhook = [{url = "https://lgo", ca_file = "/nonexistent"}]', "is not a readable file"),
    ('[sinks]\nwebhook = [{url = "https://lgo", minimal = "yes"}]', "'minimal' must be true or false"),
    ('api_cert = "FILE"', "needs both 'api_cert' and 'api_key'"),
    ('api_origins = ["http://poste1:8765"]', "must be 'https://HOST\\[:PORT\\]'"),
    ('api_origins = ["https://poste1:8765/page"]', "no path"),
    ('api_cert = "/nonexistent.crt"\napi_key = "/nonexistent.key"', "is not a readable file"),
])
def test_tls_origin_and_minimal_keys_are_checked_with_what_to_write(tmp_path, text, error):
    (tmp_path / "FILE").write_text("x")
    with pytest.raises(UserError, match=error):
        load(write(tmp_path, text.replace("FILE", str(tmp_path / "FILE")) + "\n"))
