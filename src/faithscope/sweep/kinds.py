"""Evaluation kinds of a sweep plan: a small registry, one entry per kind.

A kind says how one cell of its evaluation runs (given the cell and, for the transformers
backend, the model the executor already loaded) and writes its report. Kinds that other parts
of faithscope are still building are registered as unavailable, so a plan may name them and is
refused with one clear line instead of an unknown-key error. Adding a kind is one entry here.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from ..errors import ConfigError
from . import counterfactual_kind, selfexplain_kind

if TYPE_CHECKING:  # pragma: no cover
    from ..reports.render import Table
    from ..runs.config import RunConfig
    from .cells import Cell
    from .plan import DatasetEntry, EvaluationEntry


@dataclass(frozen=True)
class EvaluationKind:
    name: str
    description: str
    run: Callable[["Cell", Any], None] | None
    """Runs (or resumes) one cell into ``cell.dir``; ``None`` = not available in this version."""
    report: Callable[["Cell"], Path] | None = None
    """Writes the cell's report and returns its HTML page."""
    paper_tables: tuple[int, ...] = ()
    """Paper tables whose registry metrics the composed table of this kind shows."""
    takes_methods: bool = True
    """Whether the evaluation's ``methods`` mean anything to this kind (else a plan naming them is refused)."""
    split_options: Callable[[dict[str, Any], str], tuple[dict[str, Any], dict[str, Any]]] | None = None
    """Splits an evaluation's ``options`` into (run options, this kind's own checked options)."""
    option_keys: frozenset[str] = frozenset()
    """This kind's own option keys (named in the error for an unknown key)."""
    check: Callable[["DatasetEntry", "EvaluationEntry", str], None] | None = None
    """Refuses a cell this kind cannot run, at plan time."""
    key: Callable[["RunConfig", dict[str, Any]], str] | None = None
    """The cell's identity hash (default: the run config's hash)."""
    status: Callable[[Path, str], str] | None = None
    """``done``/``partial``/``new`` of a cell directory (default: the rationale store's)."""
    table: Callable[[str, Sequence["Cell"]], tuple["Table", list[dict[str, Any]]]] | None = None
    """The composed table and records of one evaluation (default: the rationale table)."""
    headline: tuple[str, ...] = ()
    """Record keys plotted against parameter count when ``table`` is given."""
    extra_plots: Callable[[Sequence[dict[str, Any]], Path], list[Path]] | None = None
    """Further figures of the composed records."""
    scaling: bool = True
    """Whether the generic scaling plots (accuracy and ``headline`` against parameter count) fit
    this kind's records: one record per cell. A kind with several records per cell draws its
    own in ``extra_plots``."""


def own_settings_key(kind: str, config: "RunConfig", options: dict[str, Any]) -> str:
    """The identity of a cell of a kind with its own settings: the run config's result keys
    (model, backend, dataset sample; not the rationale methods, which such a kind does not use)
    and every setting of the kind, credentials redacted."""
    import hashlib
    import json

    from ..models.redact import redact_value

    run = {k: v for k, v in config.result_dict().items() if k != "methods"}
    blob = json.dumps(redact_value({"kind": kind, "run": run, kind: dict(sorted(options.items()))}), sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _run_rationales(cell: "Cell", loaded_model: Any) -> None:
    from ..runs.runner import run

    result = run(cell.config, loaded_model=loaded_model)
    result.store.close()


def _report_cell(cell: "Cell") -> Path:
    """The cell's own report (``faithscope report`` reads rationale and counterfactual stores alike)."""
    from ..reports import build_report

    return build_report([cell.dir]).html or cell.dir / "report" / "report.html"


KINDS: dict[str, EvaluationKind] = {
    "rationales": EvaluationKind("rationales", "rationale run of Fayyaz et al. Tables 2/4 (alignment, flip rates)",
                                 _run_rationales, _report_cell, (2, 4)),
    "counterfactual": EvaluationKind(
        "counterfactual", "counterfactual tests of self-explanations (CT, CCT, phi-CCT) of Siegel et al. (2025)",
        counterfactual_kind.run, _report_cell, takes_methods=False, split_options=counterfactual_kind.split_options,
        option_keys=frozenset(counterfactual_kind.OPTION_TYPES),
        check=counterfactual_kind.check_cell, key=partial(own_settings_key, "counterfactual"), status=counterfactual_kind.status,
        table=counterfactual_kind.table, headline=counterfactual_kind.HEADLINE, extra_plots=counterfactual_kind.extra_plots),
    "selfexplain": EvaluationKind(
        "selfexplain", "self-consistency checks of self-explanations (Madsen et al. 2024; training: Doi et al. 2025)",
        selfexplain_kind.run, selfexplain_kind.report, takes_methods=False, split_options=selfexplain_kind.split_options,
        option_keys=frozenset(selfexplain_kind.OPTION_TYPES), check=selfexplain_kind.check_cell, key=partial(own_settings_key, "selfexplain"),
        status=selfexplain_kind.status, table=selfexplain_kind.table, extra_plots=selfexplain_kind.extra_plots, scaling=False),
}


def get_kind(name: str, where: str = "evaluation") -> EvaluationKind:
    """The registered kind ``name``; one-line ConfigError if unknown or not yet available."""
    kind = KINDS.get(name)
    if kind is None:
        raise ConfigError(f"{where}: unknown evaluation kind {name!r}; known kinds: {', '.join(KINDS)}")
    if kind.run is None:
        raise ConfigError(f"{where}: evaluation kind {name!r} ({kind.description}) is not available in this version")
    return kind
