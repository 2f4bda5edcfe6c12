"""Evaluation kinds of a sweep plan: a small registry, one entry per kind.

A kind says how one cell of its evaluation runs (given the cell and, for the transformers
backend, the model the executor already loaded) and writes its report. Kinds that other parts
of faithscope are still building are registered as unavailable, so a plan may name them and is
refused with one clear line instead of an unknown-key error. Adding a kind is one entry here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from ..errors import ConfigError

if TYPE_CHECKING:  # pragma: no cover
    from .cells import Cell


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


def _run_rationales(cell: "Cell", loaded_model: Any) -> None:
    from ..runs.runner import run

    result = run(cell.config, loaded_model=loaded_model)
    result.store.close()


def _report_rationales(cell: "Cell") -> Path:
    from ..reports import build_report

    return build_report([cell.dir]).html or cell.dir / "report" / "report.html"


KINDS: dict[str, EvaluationKind] = {
    "rationales": EvaluationKind("rationales", "rationale run of Fayyaz et al. Tables 2/4 (alignment, flip rates)",
                                 _run_rationales, _report_rationales, (2, 4)),
    "counterfactual": EvaluationKind("counterfactual", "counterfactual tests of Siegel et al. (2025)", None),
    "selfexplain": EvaluationKind("selfexplain", "self-explanation checks of Doi et al. (2025)", None),
}


def get_kind(name: str, where: str = "evaluation") -> EvaluationKind:
    """The registered kind ``name``; one-line ConfigError if unknown or not yet available."""
    kind = KINDS.get(name)
    if kind is None:
        raise ConfigError(f"{where}: unknown evaluation kind {name!r}; known kinds: {', '.join(KINDS)}")
    if kind.run is None:
        raise ConfigError(f"{where}: evaluation kind {name!r} ({kind.description}) is not available in this version")
    return kind
