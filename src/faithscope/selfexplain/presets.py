"""Settings of the self-explanation continual learning: :class:`TrainSettings` and its presets.

``paper`` — a 7B instruction-tuned model on a GPU, after Doi, Isonuma, Yanaka (2025). What the
paper's abstract (all we have here, ``shared/papers/training-faithful-self-explanations-2025-abstract.txt``)
states: the models are Tulu-2 7B/13B (instruction-tuned Llama-2, ``allenai/tulu-2-7b``), the
tasks Sentiment140, SNLI and AG News, the training data one-word-constrained pseudo-faithful
explanations built with a feature attribution method, the training *continual learning*
(continued instruction tuning of the instruction-tuned model). **Every hyperparameter below
is a guess** (marked ``# guess`` at its value), none is taken from the paper:

* LoRA r=16, alpha=32, dropout 0.05 on q/k/v/o and the MLP projections of all layers
  (a common LoRA recipe for Llama-2 7B; Tulu-2's own QLoRA runs used r=64, alpha=16, dropout
  0.1 — Ivison et al. 2023 — with lr 1e-4);
* lr 1e-4, 2 epochs (Tulu-2's fine-tuning ran 2 epochs), total batch 32 as 4 x 8
  micro-batches, 10 warm-up steps then linear decay (the Hugging Face Trainer's default);
* a classification share of 0.5 (as many plain classification instructions as explanations,
  so that task accuracy does not collapse) and 100 replayed generic instruction pairs.

``cpu`` — the embedded SmolLM2-135M-Instruct on a 2-core CPU in minutes: LoRA r=16, alpha=32,
dropout 0.05 on every projection of the last 4 of its 30 layers (the 26 frozen layers are
computed once per item and cached, :mod:`faithscope.finetune.trainer`), lr 1e-3 (the
classification fine-tune's measured CPU rate, ``finetune.presets``), 2 epochs, batch 8,
5 warm-up steps, classification share 0.5, 10 replay pairs.

:meth:`TrainSettings.finetune_config` turns the settings into the
:class:`~faithscope.finetune.presets.FinetuneConfig` that
:class:`~faithscope.finetune.trainer.LoraTrainer` takes.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from ..errors import ConfigError
from ..finetune.presets import ALL_PROJECTIONS, SCHEDULES, FinetuneConfig


@dataclass(frozen=True)
class TrainSettings:
    """Everything that determines the trained adapter (see the module docstring)."""

    lr: float = 1e-3
    epochs: int = 2
    batch_size: int = 8
    """Total batch of one optimizer step (processed as ``grad_accum`` micro-batches)."""
    grad_accum: int = 1
    lora_r: int = 16
    lora_alpha: float = 32.0
    lora_dropout: float = 0.05
    lora_layers: int | None = 4
    """LoRA on the last N transformer layers only (None = all)."""
    target_modules: tuple[str, ...] = ALL_PROJECTIONS
    warmup_steps: int = 5
    schedule: str = "linear"
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    seed: int = 0
    replay: int = 10
    """Generic instruction pairs replayed in the mix (0 = none; :mod:`.training`)."""
    classification_share: float = 0.5
    """Share of plain classification instructions in the mix of explanations + classification."""
    target_suffix: str = "\n"
    """Appended to every training target, so that the model learns to end its reply (the
    explanation's stop string)."""
    cache_frozen: bool = True
    """Speed only: cache the frozen lower layers' states (same loss up to float rounding)."""

    def __post_init__(self) -> None:
        for name in ("epochs", "batch_size", "grad_accum", "lora_r"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"{name} must be a positive integer, got {value!r}")
        if isinstance(self.replay, bool) or not isinstance(self.replay, int) or self.replay < 0:
            raise ConfigError(f"replay must be a non-negative integer, got {self.replay!r}")
        if not 0 <= self.classification_share < 1:
            raise ConfigError(f"classification_share must be in [0, 1), got {self.classification_share!r}")
        if not self.lr > 0:
            raise ConfigError(f"lr must be positive, got {self.lr!r}")
        if self.schedule not in SCHEDULES:
            raise ConfigError(f"unknown schedule {self.schedule!r}; choose one of {', '.join(SCHEDULES)}")
        if self.lora_layers is not None and (isinstance(self.lora_layers, bool) or self.lora_layers < 1):
            raise ConfigError(f"lora_layers must be a positive number of layers or None, got {self.lora_layers!r}")
        object.__setattr__(self, "target_modules", tuple(self.target_modules))

    def finetune_config(self) -> FinetuneConfig:
        """The trainer's configuration (its evaluation settings are not used here)."""
        return FinetuneConfig(lr=self.lr, epochs=self.epochs, batch_size=self.batch_size, grad_accum=self.grad_accum,
                              warmup_steps=self.warmup_steps, schedule=self.schedule, weight_decay=self.weight_decay,
                              max_grad_norm=self.max_grad_norm, lora_r=self.lora_r, lora_alpha=self.lora_alpha,
                              lora_dropout=self.lora_dropout, target_modules=self.target_modules, lora_layers=self.lora_layers,
                              cache_frozen=self.cache_frozen, seed=self.seed, progress=False)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["target_modules"] = list(self.target_modules)
        return d

    def result_dict(self) -> dict[str, Any]:
        """The settings that change the adapter (``cache_frozen`` is speed only)."""
        return {k: v for k, v in self.as_dict().items() if k != "cache_frozen"}

    def settings_hash(self) -> str:
        return hashlib.sha256(json.dumps(self.result_dict(), sort_keys=True).encode()).hexdigest()[:16]

    def with_overrides(self, **overrides: Any) -> "TrainSettings":
        """A copy with ``overrides`` (``None`` keeps a value); unknown names are a ConfigError."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ConfigError(f"unknown training setting(s): {', '.join(unknown)}")
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})


PRESETS: dict[str, TrainSettings] = {
    "cpu": TrainSettings(),
    "paper": TrainSettings(
        lr=1e-4,  # guess (Tulu-2's QLoRA lr; the paper's is not known here)
        epochs=2,  # guess (Tulu-2's fine-tuning epochs)
        batch_size=32, grad_accum=4,  # guess
        lora_r=16, lora_alpha=32.0, lora_dropout=0.05,  # guess
        lora_layers=None, target_modules=ALL_PROJECTIONS,  # guess: all layers, all projections
        warmup_steps=10, schedule="linear",  # guess
        replay=100,  # guess
        classification_share=0.5,  # guess
    ),
}
"""``cpu`` (embedded model, minutes on 2 cores) and ``paper`` (7B on a GPU; guesses marked)."""

PAPER_MODEL = "allenai/tulu-2-7b"
"""The paper's smaller model (Tulu-2 7B; the 13B is ``allenai/tulu-2-13b``)."""


def preset(name: str) -> TrainSettings:
    """The preset ``name`` (a ConfigError listing the known ones)."""
    if name not in PRESETS:
        raise ConfigError(f"unknown --preset {name!r}; choose one of {', '.join(sorted(PRESETS))}")
    return PRESETS[name]
