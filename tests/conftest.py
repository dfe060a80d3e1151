"""Shared test fixtures: where the repository and ../shared are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ELECTEUR_SHARED", REPO.parent / "shared"))
CORPUS = SHARED / "corpus"


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The real-photo corpus (../shared/corpus); tests that need it fail loudly when it is missing."""
    assert CORPUS.is_dir(), f"corpus not found at {CORPUS} (clone with ../shared beside the repo, or set ELECTEUR_SHARED)"
    return CORPUS
