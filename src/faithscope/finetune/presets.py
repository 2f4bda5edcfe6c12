"""Fine-tuning settings: the :class:`FinetuneConfig` record and the ``paper`` / ``cpu`` presets.

``paper`` is Table A.2 of Fayyaz et al. 2024: LoRA r=32, alpha=16, dropout 0.05, total batch
64, learning rate 7e-6 (e-SNLI, FEVER) or 3e-6 (MedicalBios), 10 epochs, 10 warm-up steps,
5,000 training examples. The paper does not name the LoRA target modules nor the schedule
after warm-up; we use peft's default for LLaMA/Mistral models (``q_proj``, ``v_proj``) and the
Hugging Face Trainer's default (linear decay to 0 after the warm-up). Evaluation per epoch uses
300 examples for e-SNLI and FEVER (the paper's flip rates are multiples of 1/300) and all 113
MedicalBios bios, with every method.

``cpu`` makes the embedded SmolLM2-135M learn e-SNLI on a 2-core CPU: 1,000 training pairs,
3 epochs, batch 8, LoRA r=16, alpha=32, dropout 0.05 on every attention and MLP projection
(q/k/v/o, gate/up/down) of the LAST 10 of its 30 layers (the 20 frozen layers below are computed
once per training example and reused every epoch, see :mod:`.trainer`), a learning rate of 1e-3
(measured here on 800 pairs: 2e-4 and 5e-4 left the model predicting one label after two
epochs, 1e-3 moved it above the zero-rate baseline after one; the paper's 7e-6 does not move a
135M model in a few hundred steps), evaluation on 150 examples with ``prompt-topk``,
``input_x_gradient``, ``random``, ``human`` and ``all-words`` (the mask-ALL diagnostic). The numbers
it reached are in ``docs/finetuning.md``.

Every setting can be overridden (CLI options or keyword arguments of :func:`resolve_config`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from ..errors import ConfigError
from ..methods import DEFAULT_METHODS, get_method
from ..models.batching import DEFAULT_MAX_BATCH_TOKENS
from ..models.gradients import AttributionConfig
from ..models.loading import ModelSpec

SCHEDULES = ("linear", "constant")
ALL_PROJECTIONS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
CPU_METHODS = ("prompt-topk", "input_x_gradient", "random", "human", "all-words")

#: Keys that change only speed or where files go, never the numbers (free to differ on resume).
NON_RESULT_KEYS = frozenset({"preset", "output_dir", "data_dir", "eval_batch_size", "max_batch_tokens", "progress", "cache_frozen"})


@dataclass
class FinetuneConfig:
    """Everything ``faithscope finetune`` needs. ``batch_size`` is the TOTAL batch of one
    optimizer step (Table A.2's "Total Batch Size"); it is processed as ``grad_accum``
    micro-batches of ``ceil(batch_size / grad_accum)`` examples."""

    preset: str = "cpu"
    dataset: str = "esnli"
    data_dir: str | None = None
    train_file: str | None = None
    train_n: int = 1000
    eval_n: int | None = 150
    epochs: int = 3
    lr: float = 1e-3
    batch_size: int = 8
    grad_accum: int = 1
    warmup_steps: int = 10
    schedule: str = "linear"
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0
    lora_r: int = 16
    lora_alpha: float = 32.0
    lora_dropout: float = 0.05
    target_modules: tuple[str, ...] = ALL_PROJECTIONS
    lora_layers: int | None = 10
    """Put LoRA on the last N transformer layers only (None = all layers); a CPU speed knob:
    the backward pass then stops at the lowest adapted layer."""
    cache_frozen: bool = True
    """With ``lora_layers``: compute the frozen lower layers once per training example and
    reuse them every epoch (same loss up to float rounding; a speed knob)."""
    seed: int = 0
    methods: tuple[str, ...] = CPU_METHODS
    model: ModelSpec = field(default_factory=ModelSpec)
    prompt_format: str = "plain"
    min_annotators: int = 2
    mask: str = "delete"
    placeholder: str = "_"
    random_draws: int = 100
    max_new_tokens: int = 64
    attribution: AttributionConfig = field(default_factory=AttributionConfig)
    """Evaluation settings shared with ``faithscope run`` (passed to every epoch's run)."""
    output_dir: str = "runs/finetune"
    eval_batch_size: int = 16
    max_batch_tokens: int = DEFAULT_MAX_BATCH_TOKENS
    progress: bool = True

    def __post_init__(self) -> None:
        self.methods = tuple(self.methods)
        self.target_modules = tuple(self.target_modules)
        positive = ("train_n", "epochs", "batch_size", "grad_accum", "lora_r", "eval_batch_size", "max_batch_tokens", "random_draws")
        for name in positive:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"--{name.replace('_', '-')} must be a positive integer, got {value!r}")
        if self.eval_n is not None and (isinstance(self.eval_n, bool) or not isinstance(self.eval_n, int) or self.eval_n < 1):
            raise ConfigError(f"--eval-n must be a positive integer, got {self.eval_n!r}")
        if self.lora_layers is not None and self.lora_layers < 1:
            raise ConfigError(f"--lora-layers must be a positive number of layers, got {self.lora_layers!r}")
        if self.grad_accum > self.batch_size:
            raise ConfigError(f"--grad-accum {self.grad_accum} is larger than --batch-size {self.batch_size}")
        if not self.lr > 0:
            raise ConfigError(f"--lr must be positive, got {self.lr!r}")
        if self.warmup_steps < 0 or self.weight_decay < 0 or self.max_grad_norm < 0:
            raise ConfigError("--warmup-steps, --weight-decay and --max-grad-norm must not be negative")
        if not 0 <= self.lora_dropout < 1:
            raise ConfigError(f"--lora-dropout must be in [0, 1), got {self.lora_dropout!r}")
        if self.lora_alpha <= 0:
            raise ConfigError(f"--lora-alpha must be positive, got {self.lora_alpha!r}")
        if self.mask not in ("delete", "placeholder"):
            raise ConfigError(f"unknown --mask {self.mask!r}; choose one of delete, placeholder")
        if self.min_annotators < 1 or self.max_new_tokens < 1:
            raise ConfigError("--min-annotators and --max-new-tokens must be positive")
        if self.schedule not in SCHEDULES:
            raise ConfigError(f"unknown --schedule {self.schedule!r}; choose one of {', '.join(SCHEDULES)}")
        if not self.target_modules:
            raise ConfigError("--target-modules needs at least one module name")
        if not self.methods:
            raise ConfigError("--methods needs at least one method")
        for m in self.methods:
            get_method(m)  # ConfigError naming the known methods
        if self.model.adapter:
            raise ConfigError("finetune starts from the base model's weights; --adapter is for `faithscope run`")

    @property
    def micro_batch(self) -> int:
        return -(-self.batch_size // self.grad_accum)

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["methods"] = list(self.methods)
        d["target_modules"] = list(self.target_modules)
        return d

    def result_dict(self) -> dict[str, Any]:
        """The keys that determine results (compared when a fine-tune resumes)."""
        return {k: v for k, v in self.as_dict().items() if k not in NON_RESULT_KEYS}

    def config_hash(self) -> str:
        return hashlib.sha256(json.dumps(self.result_dict(), sort_keys=True, default=str).encode()).hexdigest()[:16]

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "FinetuneConfig":
        d = dict(d)
        d["model"] = ModelSpec(**d.get("model", {}))
        d["attribution"] = AttributionConfig(**d.get("attribution", {}))
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


PRESETS: dict[str, dict[str, Any]] = {
    "paper": dict(train_n=5000, eval_n=300, epochs=10, lr=7e-6, batch_size=64, grad_accum=1, warmup_steps=10, schedule="linear",
                  lora_r=32, lora_alpha=16.0, lora_dropout=0.05, target_modules=("q_proj", "v_proj"), lora_layers=None,
                  methods=DEFAULT_METHODS),
    "cpu": dict(train_n=1000, eval_n=150, epochs=3, lr=1e-3, batch_size=8, grad_accum=1, warmup_steps=10, schedule="linear",
                lora_r=16, lora_alpha=32.0, lora_dropout=0.05, target_modules=ALL_PROJECTIONS, lora_layers=10,
                methods=CPU_METHODS),
}
"""Preset values; dataset-dependent ones are filled in by :func:`preset_values`."""

PAPER_LR = {"esnli": 7e-6, "fever": 7e-6, "medical_bios": 3e-6}
PAPER_EVAL_N = {"medical_bios": None}


def preset_values(preset: str, dataset: str) -> dict[str, Any]:
    """The settings of ``preset`` for ``dataset`` (the paper's lr and eval size per dataset)."""
    if preset not in PRESETS:
        raise ConfigError(f"unknown --preset {preset!r}; choose one of {', '.join(sorted(PRESETS))}")
    values = dict(PRESETS[preset])
    if preset == "paper":
        values["lr"] = PAPER_LR.get(dataset, values["lr"])
        if dataset in PAPER_EVAL_N:
            values["eval_n"] = PAPER_EVAL_N[dataset]
    return values


def resolve_config(preset: str = "cpu", dataset: str = "esnli", **overrides: Any) -> FinetuneConfig:
    """A :class:`FinetuneConfig` from a preset with ``overrides`` (``None`` = keep the preset's
    value, except for keys whose natural value is ``None``, given as the string ``"none"``)."""
    values = preset_values(preset, dataset)
    known = {f.name for f in fields(FinetuneConfig)}
    unknown = sorted(set(overrides) - known)
    if unknown:
        raise ConfigError(f"unknown fine-tuning setting(s): {', '.join(unknown)}")
    for key, value in overrides.items():
        if value is None:
            continue
        values[key] = None if value == "none" else value
    return FinetuneConfig(preset=preset, dataset=dataset, **values)
