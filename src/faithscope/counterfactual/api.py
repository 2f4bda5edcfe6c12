"""``run_counterfactual``: the Python API behind ``faithscope counterfactual``."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from ..data import dataset_spec, load_dataset
from ..errors import ConfigError
from ..explanations import load_selfexplain
from ..tasks import load_task
from .interventions import DEFAULT_POSITIONS, DEFAULT_WORDS, InterventionGenerator
from .pos import Tagger
from .report import write_counterfactual_tables
from .runner import DATASET_ALIASES, CounterfactualConfig, CounterfactualRunner
from .store import CounterfactualStore
from .wordnet import word_lists

COMMAND_DATASETS = ("esnli", "comve", "ecqa", "fever", "medical_bios", "demo")


def run_counterfactual(
    *,
    dataset: str,
    output_dir: str | Path,
    backend: Any,
    data_dir: str | None = None,
    n: int | None = None,
    seed: int = 0,
    style: str = "instruction",
    order: str = "pe",
    positions: int = DEFAULT_POSITIONS,
    words: int = DEFAULT_WORDS,
    demonstrations: int = 3,
    inflections: bool = False,
    max_new_tokens: int | None = None,
    batch_size: int = 8,
    on_batch: Callable[[int, int], None] | None = None,
    write_tables: bool = True,
) -> Path:
    """Run (or resume) one counterfactual test into ``output_dir``; returns that directory."""
    if dataset not in COMMAND_DATASETS:
        raise ConfigError(f"--dataset must be one of {', '.join(COMMAND_DATASETS)}, got {dataset!r}")
    name = DATASET_ALIASES.get(dataset, dataset)
    spec = dataset_spec(name)
    full = load_dataset(name, data_dir).examples
    chosen = load_dataset(name, data_dir, n=n, seed=seed).examples if n is not None else full
    if not chosen:
        raise ConfigError(f"dataset {dataset!r} gave no examples")
    task = load_task(spec.task)
    se = load_selfexplain(task)
    generator = InterventionGenerator(word_lists(), Tagger.default(), positions=positions, words=words, seed=seed,
                                      fields=se.editable_fields)
    config = CounterfactualConfig(dataset=dataset, n=n, seed=seed, style=style, order=order, positions=positions,
                                  words=words, demonstrations=demonstrations, inflections=inflections,
                                  max_new_tokens=max_new_tokens, model=dict(getattr(backend, "identity", {})))
    out = Path(output_dir)
    store = CounterfactualStore(out)
    try:
        CounterfactualRunner(config=config, backend=backend, task=task, examples=chosen, store=store, generator=generator,
                             demo_pool=full if style == "human" else (), batch_size=batch_size, on_batch=on_batch).run()
        store.mark_finished()
    finally:
        store.close()
    if write_tables:
        write_counterfactual_tables([out], out)
    return out
