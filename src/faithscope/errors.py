"""Errors that carry a message meant for the user (the CLI prints them in one line, exit 2)."""

from __future__ import annotations


class FaithscopeError(Exception):
    """Base class: a problem with the user's input, data, configuration or model server."""


class DataError(FaithscopeError):
    """A malformed record. Names the file, the line and the field."""

    def __init__(self, path: str, line: int | None, field: str | None, problem: str):
        self.path, self.line, self.field, self.problem = str(path), line, field, problem
        where = self.path + (f", line {line}" if line is not None else "")
        what = f", field {field!r}" if field else ""
        super().__init__(f"{where}{what}: {problem}")


class ConfigError(FaithscopeError):
    """An invalid option, an unknown name, or a run directory holding another configuration."""


class ModelError(FaithscopeError):
    """A model could not be loaded, or a method needs something the backend cannot give."""


class ServerError(FaithscopeError):
    """An HTTP model server failed after retries, or answered something unusable."""


class StoreError(ConfigError):
    """A run directory's result store is damaged, unreadable or not writable."""


class LockedError(ConfigError):
    """Another faithscope process holds the run directory's lock."""


class Interrupted(BaseException):
    """Ctrl-C (SIGINT) or SIGTERM during a command; ``exit_code`` is 130 or 143.

    A ``BaseException`` raised from our own signal handler, so that neither typer (which
    turns ``KeyboardInterrupt`` into a silent return value) nor an ``except Exception`` in
    library code swallows it. Every batch committed before it stays in the store."""

    def __init__(self, signum: int, exit_code: int):
        self.signum, self.exit_code = signum, exit_code
        super().__init__(f"signal {signum}")
