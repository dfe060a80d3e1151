"""Health data and secrets at rest: journal, key and token files 0600 in 0700 directories, the key apart from the
journal (also in the shipped systemd unit), the OS keyring when asked, and no token printed under a manager."""

from __future__ import annotations

import configparser
import logging
import os
import stat
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail

from host_bridge.bridge import config as conf
from host_bridge.bridge.journal import Journal
from host_bridge.bridge.sealing import Sealer
from host_bridge.commands import run
from host_bridge.payloads.lookup import build_lookup

REPO = Path(__file__).resolve().parents[2]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask():
    """The most permissive umask: whatever is private is so by its own creation mode, not by luck."""
    old = os.umask(0)
    yield
    os.umask(old)


def test_journal_files_and_key_are_0600_in_0700_directories(tmp_path, open_umask):
    key = tmp_path / "secrets" / "electeur" / "journal.key"
    journal = Journal(tmp_path / "data" / "electeur" / "journal.sqlite", sealer=Sealer.from_file(key))
    journal.record(build_lookup(b"code 1", source={"reader": "r1", "read_id": "1"}))
    files = [journal.path, Path(f"{journal.path}-wal"), Path(f"{journal.path}-shm"), key]
    assert [mode(f) for f in files] == [0o600] * 4
    assert [mode(d) for d in (journal.path.parent, journal.path.parent.parent, key.parent)] == [0o700] * 3
    journal.close()


def test_a_journal_an_older_version_left_world_readable_is_made_private(tmp_path):
    path = tmp_path / "journal.sqlite"
    Journal(path).close()
    os.chmod(path, 0o644)
    Journal(path).close()
    assert mode(path) == 0o600


def test_the_token_file_is_created_private_and_two_bridges_get_the_same_token(tmp_path, monkeypatch, open_umask):
    monkeypatch.setattr(conf, "config_dir", lambda: tmp_path / "cfg" / "electeur")
    token, new = conf.ensure_token(conf.Config())
    again, new_again = conf.ensure_token(conf.Config())
    path = tmp_path / "cfg" / "electeur" / "token"
    assert new and not new_again and token == again and len(token) >= 16
    assert mode(path) == 0o600 and mode(path.parent) == 0o700 and mode(path.parent.parent) == 0o700
    path.write_text("short\n")
    with pytest.raises(conf.UserError, match="holds no token"):
        conf.ensure_token(conf.Config())


@pytest.mark.parametrize("env, tty, managed", [({"INVOCATION_ID": "x"}, True, True), ({"JOURNAL_STREAM": "8:9"}, True, True),
                                               ({}, False, True), ({}, True, False)])
def test_the_token_is_shown_only_on_a_terminal_outside_a_service_manager(monkeypatch, env, tty, managed):
    for name in ("INVOCATION_ID", "JOURNAL_STREAM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(run.sys.stderr, "isatty", lambda: tty, raising=False)
    assert run.under_service_manager() is managed


def test_the_shipped_unit_keeps_the_key_apart_from_the_journal():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read_string((REPO / "docs" / "electeur.service").read_text())
    env = dict(item.split("=", 1) for item in unit["Service"]["Environment"].split())
    data, secrets = Path(env["XDG_DATA_HOME"]), Path(env["XDG_CONFIG_HOME"])
    assert data != secrets and data not in secrets.parents and secrets not in data.parents
    assert unit["Service"]["StateDirectoryMode"] == "0700" and unit["Service"]["UMask"] == "0077"


class MemoryKeyring(KeyringBackend):
    """Stands in for Secret Service / DPAPI / Keychain, none of which runs in this headless test machine."""
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.items.get((service, username))

    def set_password(self, service, username, password):
        self.items[(service, username)] = password

    def delete_password(self, service, username):
        self.items.pop((service, username))


def test_journal_key_keyring_keeps_the_key_in_the_os_keyring_else_in_the_file(tmp_path, caplog):
    previous = keyring.get_keyring()
    store = MemoryKeyring()
    keyring.set_keyring(store)
    try:
        journal = tmp_path / "journal.sqlite"
        first = Sealer.from_store("keyring", journal, tmp_path / "journal.key")
        sealed = first.seal("NIR 1 84 12 75 123 456 78", "id-1")
        second = Sealer.from_store("keyring", journal, tmp_path / "journal.key")
        assert second.open(sealed, "id-1").startswith("NIR") and not (tmp_path / "journal.key").exists()
        assert list(store.items) == [("electeur", f"journal-key {journal.resolve()}")]
        keyring.set_keyring(fail.Keyring())
        with caplog.at_level(logging.WARNING, logger="electeur"):
            Sealer.from_store("keyring", journal, tmp_path / "journal.key")
        assert (tmp_path / "journal.key").exists() and "no OS keyring" in caplog.text
    finally:
        keyring.set_keyring(previous)


def test_journal_key_keyring_in_the_config_file(tmp_path):
    (tmp_path / "c.toml").write_text('journal_key = "keyring"\n')
    assert conf.load(tmp_path / "c.toml").journal_key == "keyring"
