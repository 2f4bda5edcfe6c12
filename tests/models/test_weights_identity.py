"""Issue 11 item 17: a model's identity holds a content hash of its weights (local directory,
GGUF file) and the hub revision, so a resumed run notices changed weights; hashes are cached
by (path, size, mtime) so that a start does not read gigabytes twice."""

from __future__ import annotations

import hashlib
import json
import os
from types import SimpleNamespace

import pytest

from faithscope.errors import ConfigError
from faithscope.models import weights_hash
from faithscope.models.loading import ModelSpec, hub_revision, resolve
from faithscope.runs.config import RunConfig
from faithscope.runs.store import ResultStore


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("FAITHSCOPE_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def expected(files: dict[str, bytes]) -> str:
    """The documented combined hash, computed independently: sha256 of "<name> <sha256>\\n" lines."""
    lines = "".join(f"{n} {hashlib.sha256(b).hexdigest()}\n" for n, b in sorted(files.items()))
    return hashlib.sha256(lines.encode()).hexdigest()


def test_local_directory_identity_has_a_content_hash_that_follows_the_weights(tmp_path, cache_dir):
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.safetensors").write_bytes(b"weights-v1")
    (model / "config.json").write_text("{}")  # not a weight file
    _, _, ident = resolve(ModelSpec(name=str(model)))
    assert ident["weights_sha256"] == expected({"model.safetensors": b"weights-v1"}) and ident["weight_files"] == ["model.safetensors"]

    st = os.stat(model / "model.safetensors")
    (model / "model.safetensors").write_bytes(b"weights-v2")  # same size: a size-only identity would not notice
    os.utime(model / "model.safetensors", ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    _, _, changed = resolve(ModelSpec(name=str(model)))
    assert changed["weights_sha256"] == expected({"model.safetensors": b"weights-v2"}) != ident["weights_sha256"]

    # a resumed run in the same directory refuses the changed weights
    store = ResultStore.in_dir(tmp_path / "run")
    cfg = RunConfig(dataset="demo", output_dir=str(tmp_path / "run"))
    store.bind_config(cfg, ident, {})
    store.bind_config(cfg, dict(ident), {})  # same weights: fine
    with pytest.raises(ConfigError, match="model differs"):
        store.bind_config(cfg, changed, {})


def test_gguf_identity_is_a_content_hash(tmp_path, cache_dir):
    (tmp_path / "m.gguf").write_bytes(b"GGUF tiny stand-in")
    _, gguf, ident = resolve(ModelSpec(name=str(tmp_path), gguf_file="m.gguf"))
    assert gguf == "m.gguf" and ident["gguf_sha256"] == hashlib.sha256(b"GGUF tiny stand-in").hexdigest()


def test_hash_is_cached_by_path_size_and_mtime(tmp_path, cache_dir, monkeypatch):
    f = tmp_path / "w.bin"
    f.write_bytes(b"abc")
    calls = []
    real = weights_hash.sha256_of
    monkeypatch.setattr(weights_hash, "sha256_of", lambda p, limit=None: calls.append(p) or real(p, limit))
    first = weights_hash.cached_sha256(f)
    assert weights_hash.cached_sha256(f) == first == hashlib.sha256(b"abc").hexdigest() and len(calls) == 1
    entry = json.loads((cache_dir / weights_hash.CACHE_NAME).read_text())[str(f.resolve())]
    assert entry == {"size": 3, "mtime_ns": f.stat().st_mtime_ns, "sha256": first}
    f.write_bytes(b"abcd")  # new size: hashed again
    assert weights_hash.cached_sha256(f) == hashlib.sha256(b"abcd").hexdigest() and len(calls) == 2


def test_unwritable_cache_still_gives_the_hash(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("FAITHSCOPE_CACHE_DIR", str(blocker / "sub"))  # a directory below a file
    f = tmp_path / "w.bin"
    f.write_bytes(b"abc")
    assert weights_hash.cached_sha256(f) == hashlib.sha256(b"abc").hexdigest()


def test_hub_revision_comes_from_the_loaded_config():
    sha = "0123456789abcdef0123456789abcdef01234567"
    assert hub_revision(SimpleNamespace(config=SimpleNamespace(_commit_hash=sha))) == sha
    assert hub_revision(SimpleNamespace(config=SimpleNamespace())) is None
