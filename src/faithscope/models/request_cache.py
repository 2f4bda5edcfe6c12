"""A persistent cache of HTTP model-server answers, so that a rerun sends no request twice.

Why: runs against an API cost money and time, and a long run can be killed at any point. The
OpenAI-compatible backend looks each request up here before sending it and stores each answer
the moment it arrives (one committed transaction per answer, SQLite WAL mode), so a run killed
with ``kill -9`` loses nothing already answered and a resumed run sends only the rest.

The key is the SHA-256 of the canonical JSON of (endpoint path, model, request body). The base
URL is left out on purpose (the same model moved to another host answers the same), and so are
headers: the API key never reaches this file.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from pathlib import Path
from typing import Any, Mapping

from ..errors import ConfigError


def request_key(endpoint: str, model: str, body: Mapping[str, Any]) -> str:
    """Stable key of one request: sha256 of canonical JSON (sorted keys, no whitespace)."""
    canonical = json.dumps(
        {"endpoint": endpoint, "model": model, "body": body},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class RequestCache:
    """SQLite table ``requests(key TEXT PRIMARY KEY, response TEXT)`` at ``path``.

    Thread-safe: one connection guarded by a lock (the backend calls it from a thread pool).
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("CREATE TABLE IF NOT EXISTS requests (key TEXT PRIMARY KEY, response TEXT NOT NULL)")
        except (OSError, sqlite3.Error) as e:
            raise ConfigError(f"cannot open the request cache {self.path}: {e}") from None
        self._lock = threading.Lock()

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored answer for ``key``, or None when this request was never answered."""
        with self._lock:
            row = self._conn.execute("SELECT response FROM requests WHERE key = ?", (key,)).fetchone()
        if row is None:
            return None
        try:
            return json.loads(row[0])
        except json.JSONDecodeError:
            return None  # a damaged row is treated as absent: the request is sent again

    def put(self, key: str, response: Mapping[str, Any]) -> None:
        """Store one answer and commit at once (autocommit), so a crash cannot lose it."""
        text = json.dumps(response, sort_keys=True, ensure_ascii=False)
        with self._lock:
            self._conn.execute("INSERT OR REPLACE INTO requests (key, response) VALUES (?, ?)", (key, text))

    def __len__(self) -> int:
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM requests").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> "RequestCache":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
