"""``faithscope finetune``: evaluate the pre-trained model, then train and evaluate epoch by epoch.

Layout of the output directory::

    OUTPUT/results.sqlite          main store: the fine-tune's config (meta) and one summary
                                   per epoch (``epochs`` table; epoch 0 = pre-trained)
    OUTPUT/epoch_E/results.sqlite  the full evaluation run of epoch E (a normal run directory)
    OUTPUT/adapters/epoch_E/       the LoRA adapter after epoch E (adapter_model.safetensors),
                                   usable as ``faithscope run --adapter OUTPUT/adapters/epoch_E``
    OUTPUT/training_state/         optimizer moments + RNG (safetensors) and step (JSON) of the
                                   last trained epoch, to resume
    OUTPUT/analysis/               per-epoch table, Tables 3/5, skewness, figures

Order of work: evaluate epoch 0; for E = 1..epochs: train epoch E, save adapter and state,
record ``trained_epoch = E``, evaluate epoch E and store its summary. Rerunning the same
command after an interruption (Ctrl-C, kill, crash) skips every finished epoch: training
resumes after the last saved epoch (weights, optimizer, step and RNG restored) and an
evaluation that was cut short resumes inside its run directory. A different configuration in
the same directory is refused (the differing settings are named).
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..errors import ConfigError
from ..models.hf import HFBackend
from ..models.loading import LoadedModel, load_model
from ..runs.config import config_diff
from ..runs.progress import progress
from ..runs.runner import package_versions
from ..runs.store import ResultStore
from ..tasks.fit import PromptBuilder
from .analysis import write_analysis
from .data import Split, build_split, eval_run_config
from .evaluate import evaluate_epoch
from .presets import FinetuneConfig
from .trainer import LoraTrainer, adapter_dir, encode

log = logging.getLogger(__name__)

Hook = Callable[[str, int], None]
"""Called with ``("trained", E)`` after epoch E is trained and saved, and ``("evaluated", E)``
after its summary is stored (tests use it to simulate an interruption)."""


@dataclass
class FinetuneResult:
    output_dir: Path
    epochs: dict[int, dict[str, Any]]
    trained_epochs: list[int] = field(default_factory=list)
    """Epochs trained by THIS call (a resumed call skips the finished ones)."""
    evaluated_epochs: list[int] = field(default_factory=list)
    split: dict[str, Any] = field(default_factory=dict)
    files: dict[str, list[Path]] = field(default_factory=dict)
    trainer: LoraTrainer | None = None


def _say(config: FinetuneConfig, message: str) -> None:
    log.info(message)
    if config.progress:
        print(message, file=sys.stderr, flush=True)


def _bind(store: ResultStore, config: FinetuneConfig, split: Split, identity: dict[str, Any]) -> None:
    stored = store.get_meta("finetune_result")
    train_ids = [e.id for e in split.train]
    if stored is None:
        run_cfg = eval_run_config(config, output_dir=str(config.output_dir)).as_dict()
        store.set_meta(finetune_config=config.as_dict(), finetune_result=config.result_dict(), finetune_hash=config.config_hash(),
                       config=run_cfg, model_identity=identity, versions=package_versions(), created=time.time(),
                       task=split.task.name, labels=list(split.task.labels), train_ids=train_ids,
                       split={k: str(v) for k, v in split.notes.items()}, trained_epoch=0, kind="finetune")
        return
    diff = config_diff(stored, config.result_dict())
    if diff:
        raise ConfigError(f"{config.output_dir} holds a fine-tune with other settings ({'; '.join(diff)}); "
                          "rerun with the same settings to resume, or use a new --output-dir")
    if store.get_meta("train_ids") != train_ids:
        raise ConfigError(f"{config.output_dir}: the training examples differ from the stored ones (the data files changed?); "
                          "use a new --output-dir")
    if store.get_meta("model_identity") != identity:
        raise ConfigError(f"{config.output_dir}: the base model differs from the one this fine-tune started with; use a new --output-dir")
    store.set_meta(finetune_config=config.as_dict(), versions_resumed=package_versions())


def finetune(config: FinetuneConfig, loaded_model: LoadedModel | None = None, hook: Hook | None = None,
             write_files: bool = True) -> FinetuneResult:
    """Run (or resume) the fine-tune of ``config``. ``loaded_model`` (optional) is used and
    MODIFIED in place (LoRA layers are injected): pass a copy if you need the original."""
    out = Path(config.output_dir)
    split = build_split(config)
    _say(config, f"fine-tune in {out}: {split.describe()}")
    base = loaded_model if loaded_model is not None else load_model(config.model)
    store = ResultStore.in_dir(out)
    try:
        _bind(store, config, split, dict(base.identity))
        backend = HFBackend(base, max_batch_tokens=config.max_batch_tokens, max_batch_size=config.eval_batch_size)
        prompts = PromptBuilder(split.task, backend, prompt_format=config.prompt_format)
        items = encode(split.train, prompts, backend)
        steps = -(-len(items) // config.batch_size)
        trainer = LoraTrainer(base, config, steps)
        _say(config, f"LoRA: {trainer.n_trainable:,} trainable parameters; {steps} optimizer steps per epoch, "
                     f"{config.epochs} epochs, lr {config.lr:g}, batch {config.batch_size} ({config.grad_accum} x {config.micro_batch})")
        trained = int(store.get_meta("trained_epoch", 0) or 0)
        if trained > config.epochs:
            raise ConfigError(f"{out} already holds {trained} trained epochs, more than --epochs {config.epochs}")
        if trained:
            trainer.restore(out, trained)
            _say(config, f"resuming after epoch {trained} (step {trainer.step})")
        train_log: dict[str, Any] = {str(k): v for k, v in (store.get_meta("train_log") or {}).items()}
        result = FinetuneResult(out, {}, split=dict(split.notes), trainer=trainer)

        def evaluate(epoch: int) -> None:
            done = store.epochs()
            pre = (done.get(0) or {}).get("accuracy") if epoch else None
            extra = dict(train_log.get(str(epoch), {}))
            t0 = time.perf_counter()
            with trainer.frozen():
                if epoch == 0:
                    with trainer.disabled():
                        summary = evaluate_epoch(trainer.model, base, config, 0, None, store, extra, None)
                else:
                    summary = evaluate_epoch(trainer.model, base, config, epoch, adapter_dir(out, epoch), store, extra, pre)
            summary["eval_seconds"] = time.perf_counter() - t0
            store.put_epoch(epoch, summary)
            result.evaluated_epochs.append(epoch)
            _say(config, _epoch_line(epoch, summary))
            if hook:
                hook("evaluated", epoch)

        # Evaluations missing for epochs already trained (0 = pre-trained), e.g. after a crash.
        done = store.epochs()
        for epoch in range(0, trained + 1):
            if epoch in done:
                continue
            if 0 < epoch < trained:
                trainer.load_adapter_weights(adapter_dir(out, epoch))
            evaluate(epoch)
            if 0 < epoch < trained:
                trainer.load_adapter_weights(adapter_dir(out, trained))

        for epoch in range(trained + 1, config.epochs + 1):
            with progress(len(items), f"epoch {epoch}/{config.epochs} training", enabled=config.progress) as bar:
                def on_step(n: int, loss: float, bar=bar) -> None:
                    bar.update(n)
                    bar.set_postfix(loss=f"{loss:.3f}")

                stats = trainer.train_epoch(items, epoch, on_step)
            trainer.save(out, epoch)
            train_log[str(epoch)] = stats
            store.set_meta(trained_epoch=epoch, train_log=train_log)
            trainer.prune_states(out, epoch)
            result.trained_epochs.append(epoch)
            _say(config, f"epoch {epoch}: mean training loss {stats['train_loss']:.4f} "
                         f"(first quarter {stats['train_loss_first_quarter']:.4f}, last {stats['train_loss_last_quarter']:.4f}), "
                         f"{stats['train_seconds']:.0f} s")
            if hook:
                hook("trained", epoch)
            evaluate(epoch)

        result.epochs = store.epochs()
        if write_files:
            result.files = write_analysis(out, result.epochs, list(config.methods), label=f"{config.dataset} · {Path(out).name}")
        return result
    finally:
        store.close()


def _epoch_line(epoch: int, s: dict[str, Any]) -> str:
    def pct(x: Any) -> str:
        return "n/a" if not isinstance(x, (int, float)) else f"{100 * x:.1f}%"

    dist = ", ".join(f"{k} {pct(v)}" for k, v in (s.get("label_distribution") or {}).items())
    align = ", ".join(f"{k} {pct(v)}" for k, v in (s.get("alignment") or {}).items())
    flips = ", ".join(f"{k} {pct(v)}" for k, v in (s.get("flip_rate") or {}).items())
    return (f"epoch {epoch} evaluated: accuracy {pct(s.get('accuracy'))} (zero-rate {pct(s.get('zero_rate'))}); "
            f"predicted {dist}; mask-ALL flip {pct(s.get('mask_all_flip_rate'))}\n  F1: {align}\n  flip: {flips}")
