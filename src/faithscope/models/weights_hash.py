"""Content hashes of model weight files, computed once and cached by (path, size, mtime).

Why: a run's model identity must change when the weights change, so that a resumed run in the
same directory refuses weights other than those it started with. A hash of file sizes and
modification times alone is not honest (a copy with new weights can keep both); a content
hash is, but hashing gigabytes on every start is slow. So each file's SHA-256 is cached in a
small JSON file (``$FAITHSCOPE_CACHE_DIR`` or ``~/.cache/faithscope``, ``weights-sha256.json``)
keyed by its resolved path and valid only while its size and mtime (ns) are unchanged. A
cache that cannot be read or written is ignored: the hash is then computed every time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CACHE_NAME = "weights-sha256.json"
#: Files that hold weights in a local model directory (transformers, PEFT, GGUF, plain torch).
WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt", ".pth")
_lock = threading.Lock()


def cache_path() -> Path:
    """Where the hash cache lives (``FAITHSCOPE_CACHE_DIR`` overrides ``~/.cache/faithscope``)."""
    root = os.environ.get("FAITHSCOPE_CACHE_DIR") or Path.home() / ".cache" / "faithscope"
    return Path(root) / CACHE_NAME


def sha256_of(path: Path, limit: int | None = None) -> str:
    """SHA-256 of the file's bytes (of the first ``limit`` bytes when given), read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        read = 0
        while chunk := f.read(1 << 20):
            h.update(chunk)
            read += len(chunk)
            if limit is not None and read >= limit:
                break
    return h.hexdigest()


def _load(cache: Path) -> dict[str, Any]:
    try:
        data = json.loads(cache.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def cached_sha256(path: str | Path) -> str:
    """The content SHA-256 of ``path``, from the cache when its size and mtime are unchanged."""
    p = Path(path).resolve()
    st = p.stat()
    key, stamp = str(p), {"size": st.st_size, "mtime_ns": st.st_mtime_ns}
    cache = cache_path()
    with _lock:
        entry = _load(cache).get(key)
    if isinstance(entry, dict) and all(entry.get(k) == v for k, v in stamp.items()) and isinstance(entry.get("sha256"), str):
        return entry["sha256"]
    digest = sha256_of(p)
    with _lock:
        data = _load(cache)
        data[key] = {**stamp, "sha256": digest}
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=cache.parent, prefix=".weights-", suffix=".json")
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, indent=1, sort_keys=True)
            os.replace(tmp, cache)
        except OSError as e:  # read-only home, full disk: hash again next time
            log.warning("could not write the weights hash cache %s: %s", cache, e)
    return digest


def weight_files(directory: str | Path) -> list[Path]:
    """The weight files directly inside a local model directory, sorted by name."""
    return sorted(p for p in Path(directory).iterdir() if p.is_file() and p.suffix in WEIGHT_SUFFIXES)


def directory_weights_sha256(directory: str | Path) -> tuple[str, list[str]]:
    """(one SHA-256 over every weight file's name and content hash, the file names).

    The combined hash is the SHA-256 of the lines ``"<name> <sha256>\\n"`` in name order, so it
    changes when any weight file is changed, added, removed or renamed."""
    files = weight_files(directory)
    lines = "".join(f"{p.name} {cached_sha256(p)}\n" for p in files)
    return hashlib.sha256(lines.encode("utf-8")).hexdigest(), [p.name for p in files]
