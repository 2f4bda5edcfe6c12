"""A result store written with another schema version is refused in one line, not mixed
(schema 2 added masked.n_outside and the perturbed/hidden tables)."""

from __future__ import annotations

import pytest

from faithscope.errors import ConfigError
from faithscope.runs.store import SCHEMA_VERSION, ResultStore


def test_store_of_another_schema_version_is_refused(tmp_path):
    store = ResultStore.in_dir(tmp_path)
    store.set_meta(schema=SCHEMA_VERSION - 1)
    store.close()
    with pytest.raises(ConfigError, match=f"schema {SCHEMA_VERSION - 1}.*new --output-dir"):
        ResultStore.open_existing(tmp_path)


def test_store_of_this_version_opens(tmp_path):
    store = ResultStore.in_dir(tmp_path)
    store.set_meta(schema=SCHEMA_VERSION)
    store.close()
    ResultStore.open_existing(tmp_path).close()
