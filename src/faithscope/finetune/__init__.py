"""LoRA fine-tuning with per-epoch evaluation (Fayyaz et al. 2024, sections 4.1-4.4, Table A.2).

``finetune(resolve_config("cpu", "esnli", data_dir=...))`` evaluates the pre-trained model
(epoch 0), then trains LoRA adapters on the task's classification prompt (loss on the label
tokens only) and evaluates accuracy, label distribution, alignment and faithfulness after
every epoch; Tables 3/5 and the attribution skewness come from the stored results.

Modules: :mod:`.presets` (settings, ``paper`` and ``cpu`` presets), :mod:`.data` (which
examples train and which evaluate; disjointness by normalised text), :mod:`.trainer` (the
LoRA loop, checkpoints), :mod:`.evaluate` (one epoch's evaluation run and summary),
:mod:`.analysis` (Tables 3/5, skewness, figures), :mod:`.pipeline` (the resumable whole).
See ``docs/finetuning.md``.
"""

from __future__ import annotations

from .presets import PRESETS, FinetuneConfig, resolve_config

__all__ = ["PRESETS", "FinetuneConfig", "FinetuneResult", "finetune", "resolve_config"]


def __getattr__(name: str):
    if name in ("finetune", "FinetuneResult"):
        from . import pipeline

        return getattr(pipeline, name)
    raise AttributeError(name)
