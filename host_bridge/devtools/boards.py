"""Board profiles (hardware/boards/, shipped with the package): find one by name, with an error that lists the valid names."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from host_bridge.errors import UserError
from host_bridge.package_data import board_file, board_schema, boards_dir

BOARDS_DIR = boards_dir()
SCHEMA_PATH = board_schema()


def board_names() -> list[str]:
    """Every profile name, sorted, so errors and docs list them the same way."""
    return sorted(p.stem for p in BOARDS_DIR.glob("*.json"))


def board_path(name: str) -> Path:
    """The profile file of `name`; an unknown name is a user error naming the choices."""
    path = board_file(name)
    if name not in board_names():
        raise UserError(f"unknown board {name!r}; known boards: {', '.join(board_names())}")
    return path


def load_board(name: str) -> dict[str, Any]:
    """The parsed profile of `name`."""
    profile: dict[str, Any] = json.loads(board_path(name).read_text(encoding="utf-8"))
    return profile
