"""Board profiles in hardware/boards/: find one by name, with an error that lists the valid names."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from host_bridge.errors import UserError

HARDWARE = Path(__file__).resolve().parents[2] / "hardware"
BOARDS_DIR = HARDWARE / "boards"
SCHEMA_PATH = HARDWARE / "schema" / "board.schema.json"


def board_names() -> list[str]:
    """Every profile name, sorted, so errors and docs list them the same way."""
    return sorted(p.stem for p in BOARDS_DIR.glob("*.json"))


def board_path(name: str) -> Path:
    """The profile file of `name`; an unknown name is a user error naming the choices."""
    path = BOARDS_DIR / f"{name}.json"
    if name not in board_names():
        raise UserError(f"unknown board {name!r}; known boards: {', '.join(board_names())}")
    return path


def load_board(name: str) -> dict[str, Any]:
    """The parsed profile of `name`."""
    return json.loads(board_path(name).read_text(encoding="utf-8"))
