"""Checks of a run's configuration that need no model, done before the model is loaded.

A model load takes up to a minute; a typo in ``--adapter``, a damaged store or an
unwritable output directory must not cost that minute. Everything here is cheap: paths,
permissions, option values, the store's integrity and which methods the backend can serve.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ConfigError, StoreError
from ..methods import get_method
from .config import RunConfig
from .store import SCHEMA_VERSION, STORE_NAME, ResultStore

PROMPT_FORMATS = ("plain", "chat")
MIN_MAX_LENGTH = 16


def check_output_dir(run_dir: Path) -> None:
    """The run directory is a directory we can write to, or can be created."""
    if run_dir.exists() and not run_dir.is_dir():
        raise ConfigError(f"--output-dir {run_dir} is an existing file, not a directory; choose another --output-dir")
    probe = run_dir
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise ConfigError(f"--output-dir {run_dir}: {probe} is a file, so the directory cannot be created")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigError(f"--output-dir {run_dir}: {probe} is not writable; choose another --output-dir")


def check_store(run_dir: Path) -> None:
    """An existing result store is intact (``quick_check``) and writable; never written here."""
    path = run_dir / STORE_NAME
    if path.exists():
        store = ResultStore(path, readonly=True)
        try:
            schema = store.get_meta("schema")
        finally:
            store.close()
        if schema is not None and schema != SCHEMA_VERSION:
            raise StoreError(f"{path}: written by another faithscope version (store schema {schema}, this one {SCHEMA_VERSION}); "
                             "it can still be reported, but not resumed: use a new --output-dir")
        for p in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm"))):
            if p.exists() and not os.access(p, os.W_OK):
                raise ConfigError(f"{p}: the result store is not writable; check its permissions or use another --output-dir")


def check_options(config: RunConfig) -> None:
    """Option values that the dataclass does not check itself."""
    if config.prompt_format not in PROMPT_FORMATS:
        raise ConfigError(f"unknown --prompt-format {config.prompt_format!r}; choose one of {', '.join(PROMPT_FORMATS)}")
    if config.max_length is not None and config.max_length < MIN_MAX_LENGTH:
        raise ConfigError(f"--max-length {config.max_length} is too small (at least {MIN_MAX_LENGTH} tokens: the prompt's instruction must fit)")
    if config.min_annotators < 1:
        raise ConfigError("--min-annotators must be at least 1")
    if config.backend == "openai":
        if config.model.adapter:
            raise ConfigError("--adapter is applied to local weights; it cannot be used with --backend openai")
        bad = [m for m in config.methods if get_method(m).needs_gradients]
        if bad:
            raise ConfigError(f"method(s) {', '.join(bad)} need gradients or attention, which --backend openai cannot give; "
                              "drop them from --methods or use --backend transformers")


def preflight(config: RunConfig, check_model: bool = True) -> None:
    """All checks that need no model; ``check_model`` adds the model spec's (device, files,
    adapter, hub cache) for the transformers backend."""
    check_options(config)
    run_dir = Path(config.output_dir)
    check_output_dir(run_dir)
    check_store(run_dir)
    if check_model and config.backend == "transformers":
        from ..models.loading import check_spec

        check_spec(config.model)
