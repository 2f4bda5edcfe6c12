"""Generate self-explanations for many examples × styles and check them, in few backend calls.

:func:`evaluate_styles` makes exactly:

1. one ``score_labels`` call for the original predictions (skipped when ``predictions`` are
   given, e.g. by a study that already has them);
2. ONE ``generate`` call for the explanation prompts of every example × style (distinct
   prompts only; each prompt with its style's budget, ``spec.budget(style)``, and the task's
   stops; the backend plans its own token-budgeted batches);
3. ONE ``score_labels`` call for every distinct recheck prompt of every style.

Rows come back style by style, examples in the given order.
"""

from __future__ import annotations

from typing import Mapping, Sequence

from ..models.base import Backend
from ..types import Example, LabelScores
from .checks import choose_target, finish_checks, plan_checks, predict
from .spec import SelfConsistencySpec
from .types import CheckRow


def generate_replies(backend: Backend, prompts: Sequence[str], budgets: Sequence[int], stops: Sequence[Sequence[str]]) -> list[str]:
    """One reply per prompt; identical (prompt, budget, stops) are generated once, in one call."""
    keys = [(p, int(b), tuple(s)) for p, b, s in zip(prompts, budgets, stops, strict=True)]
    todo = list(dict.fromkeys(keys))
    replies = backend.generate([k[0] for k in todo], [k[1] for k in todo], stop=[list(k[2]) for k in todo]) if todo else []
    by_key = dict(zip(todo, replies))
    return [by_key[k] for k in keys]


def evaluate_styles(backend: Backend, spec: SelfConsistencySpec, examples: Sequence[Example], styles: Sequence[str], mode: str,
                    *, seed: int = 0, predictions: Mapping[str, LabelScores] | None = None,
                    task_name: str | None = None) -> list[CheckRow]:
    """Self-consistency rows of every example in every style of ``styles`` (``mode``: ``one`` or ``many``).
    ``task_name`` goes into :attr:`CheckRow.task` (default: the task file's name)."""
    if predictions is None:
        predictions = predict(backend, spec, examples)
    predicted = {e.id: predictions[e.id].predicted for e in examples}
    targets = {e.id: choose_target(spec, e, predicted[e.id], seed) for e in examples}
    prompts: list[str] = []
    budgets: list[int] = []
    for style in styles:
        for e in examples:
            target = targets[e.id] if style == "counterfactual" else None
            prompts.append(spec.explain_prompt(style, mode, e, predicted[e.id], target))
            budgets.append(spec.budget(style))
    replies = generate_replies(backend, prompts, budgets, [spec.stop] * len(prompts))
    planned = []
    for k, style in enumerate(styles):
        chunk = replies[k * len(examples):(k + 1) * len(examples)]
        planned.extend(plan_checks(spec, examples, style, mode, chunk, predicted, targets, task_name=task_name))
    return finish_checks(backend, spec, planned)


def summarise(rows: Sequence[CheckRow], *, n_resamples: int = 1000, seed: int = 0) -> list[dict[str, object]]:
    """One record per (task, style, mode) in first-seen order: N, every self-consistency rate
    of the metric registry with its CI, the failure counts by reason and, for counterfactual
    rows, ``target_is_prediction``: rows whose target (drawn != gold, Madsen's code) equals the
    model's own prediction, where keeping the prediction already "passes" the check."""
    from ..metrics.self_consistency import failure_counts, self_consistency_rates

    groups: dict[tuple[str, str, str], list[CheckRow]] = {}
    for r in rows:
        groups.setdefault((r.task, r.style, r.mode), []).append(r)
    out: list[dict[str, object]] = []
    for (task, style, mode), group in groups.items():
        rec: dict[str, object] = {"task": task, "style": style, "mode": mode, "n": len(group)}
        for name, cell in self_consistency_rates(group, n_resamples=n_resamples, seed=seed).items():
            rec[name] = cell.value
            rec[f"{name}_ci"] = cell.ci
        rec["failures"] = failure_counts(group)
        rec["target_is_prediction"] = sum(r.target is not None and r.target == r.predicted for r in group)
        out.append(rec)
    return out
