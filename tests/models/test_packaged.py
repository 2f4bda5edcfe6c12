"""Chunked GGUF wheels: parts found without importing them, joined once, checked by SHA-256."""

from __future__ import annotations

import hashlib
import importlib.util

import pytest

from faithscope.errors import ModelError
from faithscope.models.packaged import GEMMA3_270M, ChunkedGGUF, assemble, where

CHUNKS = [b"GGUF" + bytes(range(200)), b"\x00middle" * 50, b"tail-bytes"]


def _fake_model(tmp_path, monkeypatch, chunks=CHUNKS, sha: str | None = None) -> ChunkedGGUF:
    """Packages meta + partN on sys.path whose __init__ raises: importing them would fail the test."""
    root = tmp_path / "site"
    digest = sha or hashlib.sha256(b"".join(chunks)).hexdigest()
    for name, files in [("fakemeta", {"SHA256SUMS": f"{digest}  fake.gguf\n".encode()})] + \
            [(f"fakepart{i}", {f"fake.gguf.part{i:02d}": c}) for i, c in enumerate(chunks)]:
        (root / name / "data").mkdir(parents=True)
        (root / name / "__init__.py").write_text("raise RuntimeError('imported')\n")
        for fname, data in files.items():
            (root / name / "data" / fname).write_bytes(data)
    monkeypatch.syspath_prepend(str(root))
    importlib.invalidate_caches()
    return ChunkedGGUF(name="fake", description="fake", file_name="fake.gguf", meta_package="fakemeta",
                       parts=tuple((f"fakepart{i}", f"fake.gguf.part{i:02d}") for i in range(len(chunks))), pip="pip install fake")


def test_chunks_are_joined_in_order_and_reused(tmp_path, monkeypatch):
    model = _fake_model(tmp_path, monkeypatch)
    out = assemble(model, tmp_path / "cache")
    assert out.read_bytes() == b"".join(CHUNKS)
    mtime = out.stat().st_mtime_ns
    assert assemble(model, tmp_path / "cache") == out and out.stat().st_mtime_ns == mtime  # not joined again
    assert list((tmp_path / "cache").iterdir()) == [out]  # no temporary file left


def test_a_wrong_checksum_is_refused_and_nothing_is_left(tmp_path, monkeypatch):
    model = _fake_model(tmp_path, monkeypatch, sha="0" * 64)
    with pytest.raises(ModelError, match="SHA-256") as err:
        assemble(model, tmp_path / "cache")
    assert "\n" not in str(err.value)
    assert not any((tmp_path / "cache").iterdir())


def test_a_missing_part_names_what_to_install(tmp_path, monkeypatch):
    model = _fake_model(tmp_path, monkeypatch)
    broken = ChunkedGGUF(**{**model.__dict__, "parts": model.parts + (("fakepart_absent", "x.part09"),)})
    with pytest.raises(ModelError, match="fakepart_absent is not installed: run `pip install fake`"):
        assemble(broken, tmp_path / "cache")


@pytest.mark.skipif(importlib.util.find_spec(GEMMA3_270M.parts[0][0]) is None, reason="the gemma3-270m wheels are not installed")
def test_gemma_parts_are_listed_without_joining(monkeypatch, tmp_path):
    monkeypatch.setenv("FAITHSCOPE_CACHE", str(tmp_path))
    assert "4 chunks installed" in where("gemma3-270m")
    assert not any(tmp_path.iterdir())
