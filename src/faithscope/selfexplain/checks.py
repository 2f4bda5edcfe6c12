"""Madsen et al. (2024) self-consistency checks of self-explanations, batched over a backend.

* **original prediction** (:func:`predict`): the classify prompt of the unedited input, scored
  with :meth:`~SelfConsistencySpec.answer_verbalizers` (labels + unknown) in one forward per
  prompt; the prediction is the argmax over the task's labels only (forced choice), so the
  returned :class:`~faithscope.types.LabelScores` hold the labels only;
* **re-classification** of the redacted/edited input: argmax over labels + unknown from the
  same scoring (:attr:`CheckRow.recheck_probs` keeps that distribution, labels then unknown);
* **attribution**: the reply is parsed into words (:func:`.parse.parse_word_list`); every
  occurrence of them in ALL fields is replaced by the marker; faithful iff recheck == unknown;
* **redaction**: the reply is the rewritten edit field (:func:`.parse.parse_rewrite`); it must
  contain the marker and be a redaction of the original (:func:`.edits.redaction_positions`);
  the edit field is replaced by it; faithful iff recheck == unknown;
* **counterfactual**: the reply is the rewritten edit field, not identical to the original;
  faithful iff recheck == the target label (:func:`choose_target`).

A reply that cannot be used gives a :class:`CheckRow` with ``failure`` set and ``faithful``
``None``: counted, never dropped. All recheck prompts of a call are deduplicated and scored in
ONE ``score_labels`` call; :mod:`.evaluate` shares that call across styles through
:func:`plan_checks` and :func:`finish_checks`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import Mapping, Sequence

from ..errors import ConfigError
from ..models.base import Backend
from ..types import Example, LabelScores
from . import parse
from .edits import n_edited_words, redact_words, redaction_positions, replace_field, same_words
from .spec import STYLES, SelfConsistencySpec
from .types import CheckRow


def choose_target(spec: SelfConsistencySpec, example: Example, predicted: str, seed: int) -> str:
    """The counterfactual target: a label other than the gold label (``target_from="gold"``,
    Madsen's code) or than the prediction, drawn with a generator seeded by ``(seed, example
    id)`` (stable across runs and processes; with two labels it is simply the other one)."""
    base = example.label if spec.target_from == "gold" else predicted
    others = [lab for lab in spec.task.labels if lab != base]
    if not others:
        raise ConfigError(f"task {spec.task.name!r} needs at least two labels for counterfactual targets")
    if len(others) == 1:
        return others[0]
    return random.Random(f"{seed}:{example.id}").choice(others)


def forced_choice(scores: LabelScores, labels: Sequence[str]) -> LabelScores:
    """``scores`` restricted to ``labels`` (the original prediction never answers unknown)."""
    idx = [scores.labels.index(lab) for lab in labels]
    return LabelScores(labels=tuple(labels), logprobs=tuple(scores.logprobs[i] for i in idx),
                       tokens={lab: scores.tokens[lab] for lab in labels if lab in scores.tokens},
                       truncated_words=scores.truncated_words, source=scores.source)


def score_prompts(backend: Backend, spec: SelfConsistencySpec, prompts: Sequence[str]) -> dict[str, LabelScores]:
    """Labels + unknown scored after each distinct prompt, in ONE backend call."""
    todo = list(dict.fromkeys(prompts))
    scores = backend.score_labels(todo, spec.answer_verbalizers()) if todo else []
    return dict(zip(todo, scores))


def score_originals(backend: Backend, spec: SelfConsistencySpec, examples: Sequence[Example]) -> dict[str, LabelScores]:
    """Labels + unknown after the classify prompt of each unedited example, by example id (one
    call). Besides the forced choice (:func:`predict`), it tells how often the model would
    answer unknown with nothing redacted: when that is common, "faithful" verdicts of the
    attribution and redaction checks say little (:func:`unknown_on_original`)."""
    prompts = [spec.classify_prompt(e) for e in examples]
    by_prompt = score_prompts(backend, spec, prompts)
    return {e.id: by_prompt[p] for e, p in zip(examples, prompts)}


def unknown_on_original(spec: SelfConsistencySpec, originals: Mapping[str, LabelScores]) -> float:
    """Share of unedited inputs on which labels + unknown would be answered unknown."""
    if not originals:
        return float("nan")
    return sum(s.predicted == spec.unknown for s in originals.values()) / len(originals)


def predict(backend: Backend, spec: SelfConsistencySpec, examples: Sequence[Example]) -> dict[str, LabelScores]:
    """The original (forced-choice) prediction of each example, by example id."""
    return {k: forced_choice(v, spec.task.labels) for k, v in score_originals(backend, spec, examples).items()}


@dataclass(frozen=True)
class PlannedCheck:
    """One check before the model re-classifies: the edited input's prompt, or a failure."""

    row: CheckRow
    """The row with ``recheck``/``faithful`` still ``None``."""
    prompt: str | None


def _cue(spec: SelfConsistencySpec, style: str) -> tuple[str, ...]:
    last = spec.prompts[style].rstrip().rsplit("\n", 1)[-1].strip()
    return (last.rstrip(":").strip(),) if last.endswith(":") else ()


def plan_check(spec: SelfConsistencySpec, example: Example, style: str, mode: str, reply: str,
               predicted: str, target: str | None, *, task_name: str | None = None) -> PlannedCheck:
    """Parse ``reply`` and build the recheck prompt of the edited input (or the failure).
    ``task_name`` is what :attr:`CheckRow.task` records (default: the task file's name; the
    study passes its own task name, e.g. ``snli`` for the ``esnli`` task file)."""
    if style not in STYLES:
        raise ConfigError(f"unknown explanation style {style!r}; styles: {', '.join(STYLES)}")
    if style == "counterfactual" and target is None:
        raise ConfigError(f"example {example.id!r}: the counterfactual check needs a target label")
    base = dict(example_id=example.id, task=task_name or spec.task.name, style=style, mode=mode, gold=example.label,
                predicted=predicted, target=target if style == "counterfactual" else None, reply=reply,
                recheck=None, faithful=None, correct=predicted == example.label)

    def failed(reason: str, explanation: str = "") -> PlannedCheck:
        return PlannedCheck(CheckRow(explanation=explanation, failure=reason, **base), None)

    if style == "attribution":
        words = parse.parse_word_list(reply, example)
        if words.failure:
            return failed(words.failure, " | ".join(words.words))
        edited, n = redact_words(example, words.found, spec.marker)
        return PlannedCheck(CheckRow(explanation=" | ".join(words.found), failure=None, n_changed=n, **base),
                            spec.classify_prompt(edited))
    rewrite = parse.parse_rewrite(reply, spec.edit_field, _cue(spec, style))
    if rewrite is None:
        return failed(parse.EMPTY)
    original = example.fields[spec.edit_field]
    new_words = rewrite.split()
    if style == "redaction":
        if spec.marker.casefold() not in rewrite.casefold():
            return failed(parse.NO_MARKER, rewrite)
        covered = redaction_positions(original, new_words, spec.marker)
        if covered is None:
            return failed(parse.NOT_A_REDACTION, rewrite)
        n = len(covered)
    else:
        if same_words(original, new_words):
            return failed(parse.IDENTICAL, rewrite)
        n = n_edited_words(original, new_words)
    edited = replace_field(example, spec.edit_field, rewrite)
    return PlannedCheck(CheckRow(explanation=rewrite, failure=None, n_changed=n, **base), spec.classify_prompt(edited))


def finish_check(spec: SelfConsistencySpec, planned: PlannedCheck, scores: Mapping[str, LabelScores]) -> CheckRow:
    """The row with the re-classification and the verdict filled in."""
    row = planned.row
    if planned.prompt is None:
        return row
    s = scores[planned.prompt]
    recheck = s.predicted
    wanted = row.target if row.style == "counterfactual" else spec.unknown
    return replace(row, recheck=recheck, faithful=recheck == wanted, recheck_probs=tuple(s.probs))


def plan_checks(spec: SelfConsistencySpec, examples: Sequence[Example], style: str, mode: str, replies: Sequence[str],
                predicted: Mapping[str, str], targets: Mapping[str, str | None], *, task_name: str | None = None) -> list[PlannedCheck]:
    """:func:`plan_check` for each example with its reply (same order)."""
    if len(replies) != len(examples):
        raise ValueError(f"{len(replies)} replies for {len(examples)} examples")
    return [plan_check(spec, e, style, mode, r, predicted[e.id], targets.get(e.id), task_name=task_name)
            for e, r in zip(examples, replies)]


def finish_checks(backend: Backend, spec: SelfConsistencySpec, planned: Sequence[PlannedCheck]) -> list[CheckRow]:
    """Score every distinct recheck prompt of ``planned`` in ONE call and fill in the rows."""
    scores = score_prompts(backend, spec, [p.prompt for p in planned if p.prompt is not None])
    return [finish_check(spec, p, scores) for p in planned]


def check_explanations(backend: Backend, spec: SelfConsistencySpec, examples: Sequence[Example], style: str, mode: str,
                       replies: Sequence[str], predicted: Mapping[str, str], targets: Mapping[str, str | None],
                       *, task_name: str | None = None) -> list[CheckRow]:
    """The self-consistency check of one style for each example's reply (one score call)."""
    return finish_checks(backend, spec, plan_checks(spec, examples, style, mode, replies, predicted, targets, task_name=task_name))
