"""Runs: configuration, the SQLite result store, and the resumable runner."""

from .config import RunConfig
from .store import ResultStore

__all__ = ["RunConfig", "ResultStore"]
