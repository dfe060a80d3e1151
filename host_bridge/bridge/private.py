"""Files that hold health data or secrets (journal, its key, the API token): readable by the bridge's user only.

A file is created with mode 0600 in the same system call that creates it (never world-readable, even for an
instant, whatever the umask), written whole under a private name and then linked into place, so a bridge
starting at the same moment never reads half a file and only one version wins. Directories the bridge
creates for them are 0700. On Windows the modes reduce to "not read-only"; the user profile's ACLs apply.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path


def private_dir(path: Path) -> None:
    """Create `path` and its missing parents with mode 0700 (existing directories are left as they are)."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for p in reversed(missing):
        try:
            p.mkdir(mode=0o700)
        except FileExistsError:
            continue                    # created by another bridge meanwhile
        os.chmod(p, 0o700)              # exactly 0700, whatever the umask


def create_private(path: Path, text: str) -> bool:
    """Write `text` to `path` as a new 0600 file; False (nothing written) if `path` already exists."""
    private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.link(tmp, path)              # like a rename, but never replaces a file another process made
        return True
    except FileExistsError:
        return False
    finally:
        tmp.unlink()


def make_private(*paths: Path) -> None:
    """Mode 0600 on those of `paths` that exist (files an older version created 0644)."""
    for p in paths:
        if p.exists():
            os.chmod(p, 0o600)
