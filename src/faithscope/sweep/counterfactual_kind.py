"""The ``counterfactual`` evaluation kind of a sweep: each cell is one ordinary, resumable
``faithscope counterfactual`` run directory (CT, CCT, φ-CCT, TPR/FPR of free-text
self-explanations, Siegel et al. 2025) of one model on one dataset.

An evaluation of this kind takes no ``methods``; its ``options`` hold the counterfactual
settings (:data:`OPTION_TYPES`: style, order, positions, words, demonstrations, inflections,
max_new_tokens) beside the backend's run options (batch_size, max_batch_tokens, ...). The
cell's identity hash covers the model, dataset sample and every counterfactual setting, so a
changed setting names a new cell directory. The composed table has one row per (model,
dataset) cell, with each registry metric of family ``counterfactual`` and its CI, the
original-input accuracy and the parse statistics; the plots are the scaling plots of
:data:`HEADLINE` against parameter count plus the TPR-vs-FPR and CCT-vs-φ-CCT views.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from ..errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from ..reports.render import Table
    from .cells import Cell
    from .plan import DatasetEntry, EvaluationEntry

#: Counterfactual settings an evaluation's ``options`` may hold, with their TOML types.
OPTION_TYPES: dict[str, type] = {"style": str, "order": str, "positions": int, "words": int, "demonstrations": int,
                                 "inflections": bool, "max_new_tokens": int}
STYLES = ("instruction", "human")
ORDERS = ("pe", "ep")
#: Registered dataset of a plan entry -> the ``faithscope counterfactual --dataset`` name.
DATASETS = {"esnli": "esnli", "esnli-plain": "esnli", "comve": "comve", "ecqa": "ecqa", "fever": "fever",
            "medical_bios": "medical_bios", "demo": "demo"}
#: Metrics plotted against parameter count (besides accuracy on the original inputs).
HEADLINE = ("phi_cct", "cct", "ct_unfaithfulness", "tpr", "fpr")


def split_options(options: dict[str, Any], where: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(run options, counterfactual options) of an evaluation's ``options``; the latter
    type- and range-checked here, the former left to the run-option check."""
    cf = {k: v for k, v in options.items() if k in OPTION_TYPES}
    run = {k: v for k, v in options.items() if k not in OPTION_TYPES}
    for key, value in cf.items():
        t = OPTION_TYPES[key]
        if not isinstance(value, t) or (isinstance(value, bool) and t is not bool):
            raise ConfigError(f"{where}: {key} must be {'true/false' if t is bool else 'a string' if t is str else 'an integer'}, got {value!r}")
    if cf.get("style", "instruction") not in STYLES:
        raise ConfigError(f"{where}: style must be one of {', '.join(STYLES)}, got {cf['style']!r}")
    if cf.get("order", "pe") not in ORDERS:
        raise ConfigError(f"{where}: order must be one of {', '.join(ORDERS)}, got {cf['order']!r}")
    for key in ("positions", "words", "demonstrations", "max_new_tokens"):
        if key in cf and cf[key] < 1:
            raise ConfigError(f"{where}: {key} must be at least 1, got {cf[key]}")
    return run, cf


def check_cell(dataset: "DatasetEntry", evaluation: "EvaluationEntry", where: str) -> None:
    """Refuse, before anything runs, a dataset the counterfactual test cannot use."""
    from ..counterfactual.runner import HUMAN_STYLE_DATASETS

    name = DATASETS.get(dataset.dataset)
    if name is None:
        raise ConfigError(f"{where}: the counterfactual kind runs on {', '.join(sorted(set(DATASETS.values())))}, "
                          f"not dataset {dataset.dataset!r}")
    if dataset.first:
        raise ConfigError(f"{where}: the counterfactual kind samples n examples with the dataset's seed; first = true is not supported")
    if dataset.options:
        raise ConfigError(f"{where}: the counterfactual kind takes no {', '.join(sorted(dataset.options))} for its dataset")
    if evaluation.kind_options.get("style") == "human" and name not in HUMAN_STYLE_DATASETS:
        raise ConfigError(f"{where}: style = \"human\" needs human explanations; dataset {name!r} has none "
                          f"(use one of {', '.join(HUMAN_STYLE_DATASETS)}, or style = \"instruction\")")


def status(run_dir: Path, key: str) -> str:
    from ..counterfactual.store import counterfactual_status

    return counterfactual_status(run_dir)


def run(cell: "Cell", loaded_model: Any) -> None:
    """Run (or resume) the cell's counterfactual test with the executor's loaded model."""
    from tqdm.auto import tqdm

    from ..counterfactual.api import run_counterfactual
    from ..runs.runner import make_backend

    config = cell.config
    backend = make_backend(config, loaded_model)
    bar = tqdm(desc=cell.name, unit="example", disable=not config.progress, dynamic_ncols=True, position=1, leave=False)

    def on_batch(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    try:
        run_counterfactual(dataset=DATASETS[cell.dataset.dataset], output_dir=cell.dir, backend=backend, data_dir=config.data_dir,
                           n=cell.dataset.n, seed=cell.dataset.seed, batch_size=config.batch_size, on_batch=on_batch,
                           **cell.evaluation.kind_options)
    finally:
        bar.close()
        backend.close()


def records(name: str, cells: Sequence["Cell"], n_resamples: int = 1000, seed: int = 0) -> list[dict[str, Any]]:
    """One record per finished cell: the counterfactual summary (metrics, CIs, parse rates),
    the accuracy on the original inputs, and the plan's model metadata."""
    from ..counterfactual.report import summary_record
    from ..counterfactual.store import CounterfactualStore

    out = []
    for c in cells:
        if c.status() != "done":
            continue
        store = CounterfactualStore(c.dir, readonly=True)
        try:
            rec = summary_record(store, n_resamples, seed)
            n, correct = store.db.execute("SELECT COUNT(*), SUM(label = orig_predicted) FROM cf_examples").fetchone()
        finally:
            store.close()
        rec.update(model=c.model.name, adapter_path=rec.pop("adapter"), adapter="", dataset=c.dataset.name, evaluation=name,
                   family=c.model.family, params=c.model.params, tuned=c.model.tuned, partner=c.model.partner, epoch=c.model.epoch,
                   accuracy=(int(correct or 0) / n) if n else float("nan"), cell_dir=str(c.dir))
        out.append(rec)
    return out


def table(name: str, cells: Sequence["Cell"], n_resamples: int = 1000, seed: int = 0) -> tuple["Table", list[dict[str, Any]]]:
    """The composed table of one counterfactual evaluation and its CSV records."""
    from ..counterfactual.report import counterfactual_table

    recs = records(name, cells, n_resamples, seed)
    t = counterfactual_table(recs, n_resamples)
    missing = [c.name for c in cells if str(c.dir) not in {r["cell_dir"] for r in recs}]
    notes = [*t.notes, "accuracy (CSV column): share of original inputs whose predicted label is the gold label."]
    if missing:
        notes.append(f"not finished (no row): {', '.join(missing)}")
    return replace(t, title=f"Sweep: evaluation {name} (counterfactual)", notes=notes), recs


def extra_plots(records: Sequence[dict[str, Any]], out_dir: Path) -> list[Path]:
    """TPR vs FPR and CCT vs φ-CCT over the sweep's cells."""
    from ..counterfactual.plots import counterfactual_plots

    return [p for paths in counterfactual_plots(records, out_dir).values() for p in paths]
