"""Pairing: each Wi-Fi reader's secret key, set once over USB and kept by the bridge to authenticate it.

The store is one JSON file (`pairings` in the config; default beside the token), 0600 in a 0700 directory,
written atomically: `{"version": 1, "readers": {"3": {"key": hex, "name", "board", "paired_at"}}}`. The bridge
reads it at each reader's handshake, so a reader paired while the bridge runs is accepted without a restart.
`pair_over_usb` sends the key to a reader in `framed` mode on its USB serial port (physical access is the
proof of ownership) and records it once the reader confirmed it saved it.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from firmware import protocol as P
from firmware import secure
from firmware.hmac256 import fingerprint
from host_bridge.errors import UserError
from host_bridge.link.reader_link import NotNow, ReaderLink, Stream

log = logging.getLogger("electeur.pairing")
VERSION = 1


class PairingStore:
    """Reader id -> pairing key, on disk only readable by the bridge's user."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise UserError(f"pairing store {self.path} is unreadable ({exc}): pair the readers again") from None
        readers = doc.get("readers") if isinstance(doc, dict) else None
        if not isinstance(readers, dict):
            raise UserError(f"pairing store {self.path} is not a pairing store: pair the readers again")
        return readers

    def key(self, reader_id: int) -> bytes | None:
        """The reader's key, None when it is not paired (or the store cannot be read: logged)."""
        try:
            entry = self._load().get(str(reader_id))
            return secure.parse_key(entry["key"]) if entry else None
        except (UserError, KeyError, TypeError, ValueError) as exc:
            log.error("reader %d refused: %s", reader_id, exc)
            return None

    def readers(self) -> dict[int, dict[str, Any]]:
        """Every paired reader's name, board, date and key fingerprint (never the key)."""
        return {int(rid): {k: v for k, v in e.items() if k != "key"} | {"fingerprint": fingerprint(
            secure.parse_key(e["key"]))} for rid, e in self._load().items()}

    def add(self, reader_id: int, key: bytes, name: str = "", board: str = "") -> None:
        readers = self._load()
        readers[str(reader_id)] = {"key": key.hex(), "name": name, "board": board,
                                   "paired_at": datetime.now(UTC).isoformat(timespec="seconds")}
        self._save(readers)

    def remove(self, reader_id: int) -> bool:
        readers = self._load()
        if readers.pop(str(reader_id), None) is None:
            return False
        self._save(readers)
        return True

    def _save(self, readers: dict[str, dict[str, Any]]) -> None:
        """Atomically, created 0600 (never readable by others, not even for a moment), in a 0700 directory."""
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.unlink(missing_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"version": VERSION, "readers": readers}, f, indent=1, sort_keys=True)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)


def _refuse_reads(reader_id: int, seq: int, payload: bytes, meta: dict[str, Any]) -> None:
    raise NotNow("pairing: reads are left to the bridge")     # not acknowledged: the reader keeps them


def pair_over_usb(stream: Stream, store: PairingStore, output: str | None = None,
                  timeout_s: float = 5.0) -> dict[str, Any]:
    """Give the reader on `stream` (its USB serial port, framed mode) a new key and record it.

    Returns the reader's HELLO plus `fingerprint`; UserError when no reader answers or it refuses the key.
    Reads the reader sends meanwhile are not acknowledged, so the bridge still gets them.
    """
    got: list[P.Message] = []
    link = ReaderLink(stream, _refuse_reads, on_message=got.append)

    def wait(done: Callable[[P.Message], bool], what: str) -> P.Message:
        end = time.monotonic() + timeout_s
        while time.monotonic() < end:
            for msg in got:
                if done(msg):
                    return msg
            got.clear()
            link.poll()
        raise UserError(f"no {what} from a reader within {timeout_s:g} s: is it a reader in framed mode on USB, "
                        "and no other program (the bridge) using the port? A reader already on Wi-Fi (output tcp) is "
                        "paired by deploying it again: electeur deploy --output tcp --pair")

    link.send(P.config_get())
    hello = wait(lambda m: m.type == P.HELLO, "answer")
    info: dict[str, Any] = hello.json()
    key = secrets.token_bytes(secure.KEY_LEN)
    key_id = fingerprint(key)
    change: dict[str, Any] = {"pair_key": key.hex()}
    if output:
        change["output"] = output
    link.send(P.config_set(hello.reader, change))
    answer = wait(lambda m: m.type == P.ERROR or (m.type == P.CONFIG and "paired" not in m.json())
                  or (m.type == P.CONFIG and m.json()["paired"] == key_id), "confirmation")
    if answer.type == P.ERROR:
        raise UserError(f"reader {hello.reader} refused the key: {answer.json().get('message')}")
    if "paired" not in answer.json():
        raise UserError(f"reader {hello.reader}'s firmware predates pairing: update it (electeur deploy)")
    store.add(hello.reader, key, str(info.get("name", "")), str(info.get("board", "")))
    return {**info, "reader": hello.reader, "fingerprint": key_id}
