"""Helpers shared by the run-stage tests."""

from __future__ import annotations

from typing import Sequence

import pytest


class CountingBackend:
    """The real backend, recording every prompt sent to ``score_labels``."""

    def __init__(self, inner):
        self.inner = inner
        self.calls: list[list[str]] = []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def score_labels(self, prompts: Sequence[str], verbalizers):
        self.calls.append(list(prompts))
        return self.inner.score_labels(prompts, verbalizers)


@pytest.fixture(scope="session")
def counting_backend():
    """Wrap a backend so that a test can see every prompt it scored: ``counting_backend(backend)``."""
    return CountingBackend
