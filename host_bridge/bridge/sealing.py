"""Identifiers at rest: the journal's lookup bodies sealed with AES-256-GCM under a key file.

The journal must keep every read until each sink has it (and the counter page shows recent ones), so
it cannot simply drop names, NIRs and birth dates; sealing keeps them out of the database file, its
-wal/-shm companions and any copy or backup of them. The key lives in its own file (0600, next to the
API token, not next to the journal); the lookup id is bound as associated data, so a sealed body moved
to another row does not open.
"""

from __future__ import annotations

import base64
import binascii
import os
import threading
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from host_bridge.errors import UserError

PREFIX = "sealed1:"


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)


class Sealer:
    """Seals and opens journal bodies with one AES-GCM key."""

    def __init__(self, key: bytes, path: Path | None = None) -> None:
        self._aead = AESGCM(key)
        self.path = path

    @classmethod
    def from_file(cls, path: str | Path) -> "Sealer":
        """The key in `path` (base64 of 32 bytes); created, readable by the owner only, if missing."""
        path = Path(path)
        if not path.exists():
            # written whole under a private name, then linked into place: a bridge starting at the same moment
            # never reads a half-written key, and only one key wins
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # never world-readable, even briefly
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(base64.b64encode(AESGCM.generate_key(256)).decode() + "\n")
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass                    # another process created it first: use that one
            finally:
                tmp.unlink()
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
