"""Identifiers at rest: the journal's lookup bodies sealed with AES-256-GCM under a key file.

The journal must keep every read until each sink has it (and the counter page shows recent ones), so
it cannot simply drop names, NIRs and birth dates; sealing keeps them out of the database file, its
-wal/-shm companions and any copy or backup of them. The key lives in its own file (0600, next to the
API token, not next to the journal), or with `journal_key = "keyring"` in the OS keyring (Secret Service,
Windows Credential Locker/DPAPI, macOS Keychain, through the `keyring` library; the key file when no keyring
is available); the lookup id is bound as associated data, so a sealed body moved to another row does not open.
What it does not protect against: anyone who can read the key too (the bridge's user, root, a copy of the
whole disk holding both), nor a running bridge's memory (docs/security.md).
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from host_bridge.bridge.private import create_private
from host_bridge.errors import UserError

PREFIX = "sealed1:"
KEYRING = "keyring"             # journal_key value: the OS keyring
KEYRING_SERVICE = "electeur"
log = logging.getLogger("electeur.bridge")


def _new_key() -> str:
    return base64.b64encode(AESGCM.generate_key(256)).decode()


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)


class Sealer:
    """Seals and opens journal bodies with one AES-GCM key."""

    def __init__(self, key: bytes, path: Path | None = None) -> None:
        self._aead = AESGCM(key)
        self.path = path

    @classmethod
    def from_store(cls, where: str | Path, journal: Path, fallback: Path) -> Sealer:
        """The key `journal_key` names: "keyring" (the OS keyring, entry per journal; `fallback`, the key file,
        where no keyring is available) or a key file path."""
        if str(where) == KEYRING:
            found = _from_keyring(journal)
            if found is not None:
                return found
            log.warning("no OS keyring available here: the journal key is kept in the file %s instead", fallback)
            where = fallback
        return cls.from_file(where)

    @classmethod
    def from_file(cls, path: str | Path) -> Sealer:
        """The key in `path` (base64 of 32 bytes); created 0600 in a 0700 directory if missing."""
        path = Path(path)
        if not path.exists():
            create_private(path, _new_key() + "\n")       # another bridge made it first: that one is used
        try:
            key = base64.b64decode(path.read_text(encoding="ascii").strip(), validate=True)
        except (OSError, UnicodeDecodeError, binascii.Error) as exc:
            raise UserError(f"cannot read journal key {path}: {exc}") from None
        if len(key) != 32:
            raise UserError(f"journal key {path} is not a key (expected base64 of 32 bytes): restore it from a backup")
        return cls(key, path)

    def seal(self, text: str, bound_to: str) -> str:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, text.encode("utf-8"), bound_to.encode("utf-8"))
        return PREFIX + base64.b64encode(nonce + sealed).decode("ascii")

    def open(self, stored: str, bound_to: str) -> str:
        """The clear text of a sealed body; UserError if this key did not seal it (lost or replaced key file)."""
        try:
            raw = base64.b64decode(stored[len(PREFIX):], validate=True)
            return self._aead.decrypt(raw[:12], raw[12:], bound_to.encode("utf-8")).decode("utf-8")
        except (binascii.Error, InvalidTag, ValueError):
            raise UserError(f"a journal entry does not open with the key {self.path or '(given)'}: "
                            "was the key file replaced? restore the one the journal was written with") from None


def _from_keyring(journal: Path) -> Sealer | None:
    """The journal's key from the OS keyring (created there on first use); None when no keyring is available."""
    import keyring
    from keyring.errors import KeyringError

    entry = f"journal-key {journal.resolve()}"
    try:
        stored = keyring.get_password(KEYRING_SERVICE, entry)
        if stored is None:
            keyring.set_password(KEYRING_SERVICE, entry, _new_key())
            stored = keyring.get_password(KEYRING_SERVICE, entry)
    except KeyringError:
        return None
    try:
        key = base64.b64decode(stored or "", validate=True)
    except binascii.Error:
        key = b""
    if len(key) != 32:
        raise UserError(f"the OS keyring entry '{KEYRING_SERVICE}' / '{entry}' is not a journal key: restore it")
    return Sealer(key, None)
