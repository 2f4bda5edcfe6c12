"""Fixtures for the data-layer tests: the tiny hand-written files and the real shared data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "data"


@pytest.fixture
def fixtures() -> Path:
    """Root of the tiny fixture datasets (holds esnli/, fever/, medical_bios/ and bad/)."""
    return FIXTURES


@pytest.fixture
def real_data() -> Path:
    """The shared public data (``$FAITHSCOPE_DATA`` or ``<repo>/../shared/data``); skip if absent."""
    candidates = [os.environ.get("FAITHSCOPE_DATA"), str(REPO.parent / "shared" / "data")]
    for c in candidates:
        if c and (Path(c) / "fever" / "test.jsonl").is_file():
            return Path(c)
    pytest.skip("shared data not found (set FAITHSCOPE_DATA or place it at <repo>/../shared/data)")
