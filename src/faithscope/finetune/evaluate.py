"""Per-epoch evaluation: an ordinary ``faithscope run`` on the model as it is after an epoch.

Epoch ``E`` is evaluated into the run directory ``OUTPUT/epoch_E`` by the standard
:class:`~faithscope.runs.runner.Runner` (so it is resumable, and ``faithscope report
OUTPUT/epoch_E`` works on it like on any run), with a transformers backend built on the
in-memory LoRA model: epoch 0 with the adapters disabled (the pre-trained model, recorded
without an adapter), epoch E >= 1 with the adapter saved in ``OUTPUT/adapters/epoch_E``,
whose path and sha256 go into the run's model identity exactly as ``faithscope run --adapter
OUTPUT/adapters/epoch_E`` would record them.

Its summary (keys of :mod:`faithscope.reports.epochs`: accuracy, zero-rate, predicted-label
distribution, alignment micro F1 and flip rate per method, mask-ALL flip rate, pre-trained
accuracy; plus the training statistics of the epoch and the skewness of the attribution
scores) is stored with ``ResultStore.put_epoch`` in the fine-tune's main store
``OUTPUT/results.sqlite``.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from ..models.hf import HFBackend
from ..models.loading import LoadedModel, file_sha256
from ..reports.epochs import epoch_summary
from ..reports.rundata import read_store
from ..runs.runner import Runner
from ..runs.store import ResultStore
from .analysis import skewness_summary
from .data import eval_run_config
from .presets import FinetuneConfig
from .trainer import ADAPTER_WEIGHTS

SCORED_METHODS = ("attention", "saliency", "input_x_gradient", "integrated_gradients", "occlusion")


def epoch_dir(output_dir: Path | str, epoch: int) -> Path:
    return Path(output_dir) / f"epoch_{epoch}"


def adapter_identity(base_identity: dict[str, Any], adapter: Path | None) -> dict[str, Any]:
    """The model identity ``load_model`` gives for the base model plus ``adapter``."""
    identity = dict(base_identity)
    if adapter is not None:
        identity["adapter"] = str(Path(adapter).resolve())
        identity["adapter_sha256"] = file_sha256(Path(adapter) / ADAPTER_WEIGHTS)
    return identity


def evaluate_epoch(model: Any, base: LoadedModel, config: FinetuneConfig, epoch: int, adapter: Path | None,
                   main_store: ResultStore, extra: dict[str, Any] | None = None, pretrained_accuracy: float | None = None) -> dict[str, Any]:
    """Run the evaluation of ``epoch`` with ``model`` (the current weights) and store its summary."""
    run_dir = epoch_dir(config.output_dir, epoch)
    spec = replace(config.model, adapter=str(adapter) if adapter is not None else None)
    loaded = LoadedModel(model, base.tokenizer, spec, adapter_identity(base.identity, adapter), base.context_window, list(base.stop_token_ids))
    backend = HFBackend(loaded, max_batch_tokens=config.max_batch_tokens, max_batch_size=config.eval_batch_size)
    run_config = eval_run_config(config, output_dir=str(run_dir))
    run_config.model = spec
    result = Runner(run_config, backend=backend).run()
    try:
        data = read_store(result.store, run_dir)
    finally:
        result.store.close()
    summary = epoch_summary(data, pretrained_accuracy)
    if summary.get("pretrained_accuracy") is None and epoch == 0:
        summary["pretrained_accuracy"] = summary.get("accuracy")
    summary["skewness"] = {m: skewness_summary(data, m) for m in config.methods if m in SCORED_METHODS}
    summary.update({"epoch": epoch, "run_dir": str(run_dir), "adapter": str(adapter) if adapter is not None else None})
    summary.update(extra or {})
    main_store.put_epoch(epoch, summary)
    return summary
