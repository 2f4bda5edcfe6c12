"""Pseudo-faithful one-word explanations from feature attribution (Doi, Isonuma, Yanaka 2025).

For each training example and the model's own (forced-choice) prediction:

1. **Rank** the input words by an attribution method of the :mod:`faithscope.methods`
   registry (Input×Gradient by default; any method of kind ``attribution`` that stores
   per-word scores), explaining the PREDICTED label on the task's attribution prompt, exactly
   as ``faithscope run`` computes it. Punctuation-only words are never candidates.
2. **Confirm by deletion**: among the top ``top_m`` words, the chosen word is the one whose
   deletion lowers the predicted label's probability most (ties: the better-ranked word). The
   probability is the forced choice over the task's labels on the self-consistency classify
   prompt (:meth:`SelfConsistencySpec.classify_prompt`; labels + unknown are scored in one
   forward and the labels' probabilities renormalised over the labels only, as
   :func:`.checks.predict` does) — the prompt and label set that define the prediction being
   explained, so the deletion measures the same decision. The word is deleted
   from its field (its whitespace word removed). All deletions of all examples (and the
   undeleted prompts) are scored in ONE deduplicated ``score_labels`` call.
3. **Render** the answer per style:

   * ``attribution`` → the chosen word (its punctuation stripped);
   * ``redaction`` → the edit field with the chosen word replaced by the marker;
   * ``counterfactual`` → the edit field with the chosen word replaced by a substitute that
     makes the current model predict the target label (:func:`.checks.choose_target`, seeded
     per example). Candidates (:mod:`.substitutes`): WordNet antonyms first, then frequent
     same-POS words, scored on the classify prompt with labels + unknown (the
     re-classification of the check) in two rounds, each ONE deduplicated ``score_labels``
     call over all examples: every antonym of every example, then the same-POS words of the
     examples that no antonym flipped (an antonym that works is preferred anyway, and most
     of the cost is in these forwards). Among the candidates of the round that flipped, the
     highest target probability wins (ties: the earlier candidate). An example with no candidate, or
     whose candidates all fail, is dropped and counted by reason; so is an example whose
     target is its prediction (possible with ``target_from="gold"`` when the prediction is
     wrong: an edit "towards" the current answer explains nothing).

   Redaction and counterfactual rewrite the task's ``edit_field`` only. When the word chosen in
   step 2 lies in another field, the same rule is applied inside the edit field: the edit
   field's top ``top_m`` words by attribution, and among them the one whose deletion lowers the
   prediction most (these deletions are part of the one batched call of step 2).
4. **Keep only explanations that pass their own check**: each rendered answer is given to
   :func:`.checks.check_explanations` as the model's reply (one-word mode); only rows with
   ``faithful`` True become training items, the others are counted
   (``"<style>: fails own check"``, ``"<style>: unparsed (<reason>)"``).

Each kept explanation becomes ``TrainItem(prompt=spec.explain_prompt(style, "one", example,
predicted, target), target=" " + answer)``.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from typing import Any, Callable, Mapping, Sequence

from ..counterfactual.pos import Tagger, core
from ..errors import ConfigError
from ..methods import get_method
from ..methods.base import MethodContext, MethodOptions, RationaleRequest
from ..models.base import Backend
from ..models.loading import LoadedModel
from ..tasks.fit import PromptBuilder
from ..types import Example, LabelScores
from .spec import STYLES, SelfConsistencySpec
from .substitutes import candidates
from .types import CheckRow, PseudoResult, TrainItem

Checker = Callable[..., list[CheckRow]]
"""``check_explanations(backend, spec, examples, style, mode, replies, predicted, targets)``."""
TargetChooser = Callable[[SelfConsistencySpec, Example, str, int], str]
"""``choose_target(spec, example, predicted, seed)``."""


def replace_word(example: Example, position: int, new: str | None) -> Example:
    """``example`` with its global word ``position`` replaced by ``new`` (``None``: deleted)."""
    offsets = example.field_offsets()
    for name, words in example.fields.items():
        start = offsets[name]
        if start <= position < start + len(words):
            i = position - start
            changed = words[:i] + (() if new is None else (new,)) + words[i + 1:]
            fields = {**example.fields, name: changed}
            return replace(example, fields=fields, rationale=frozenset(), annotator_rationales=())
    raise ValueError(f"example {example.id}: no word at position {position}")


def _usable(word: str) -> bool:
    return any(ch.isalnum() for ch in core(word))


def _ranked(scores: Sequence[float], positions: Sequence[int]) -> list[int]:
    """``positions`` by attribution score, highest first (ties: earlier position first)."""
    return sorted(positions, key=lambda g: (-float(scores[g]), g))


def _prob(scores: LabelScores, label: str) -> float:
    return scores.probs[scores.labels.index(label)]


def _forced_prob(scores: LabelScores, label: str, labels: Sequence[str]) -> float:
    """Probability of ``label`` renormalised over ``labels`` only (the forced choice)."""
    lps = [scores.logprob(lab) for lab in labels]
    m = max(lps)
    return math.exp(scores.logprob(label) - m) / sum(math.exp(lp - m) for lp in lps)


def _score(backend: Backend, prompts: Sequence[str], verbalizers: Mapping[str, str]) -> dict[str, LabelScores]:
    """Score each distinct prompt once (one backend call)."""
    unique = list(dict.fromkeys(prompts))
    return dict(zip(unique, backend.score_labels(unique, verbalizers))) if unique else {}


def build_pseudo_explanations(loaded: LoadedModel | None, backend: Backend, spec: SelfConsistencySpec, examples: Sequence[Example],
                              styles: Sequence[str], *, predicted: Mapping[str, str], method: str = "input_x_gradient", top_m: int = 5,
                              seed: int = 0, same_pos: int = 10, antonym_limit: int = 10, checker: Checker | None = None,
                              target_chooser: TargetChooser | None = None, strict_unknown: bool = False,
                              timings: dict[str, float] | None = None) -> PseudoResult:
    """Pseudo-faithful one-word explanations of ``examples`` in ``styles`` (see the module doc).

    ``loaded`` is the model ``backend`` wraps (the attribution runs through ``backend``'s
    gradient engine; ``None`` is fine for a backend that is not a transformers model, e.g. in
    tests). ``checker``/``target_chooser`` default to :func:`.checks.check_explanations` and
    :func:`.checks.choose_target`. ``strict_unknown`` also drops attribution/redaction
    explanations of examples whose UNREDACTED input already gets the unknown answer (their
    check passes whatever is redacted; ``chosen[id]["unknown_unredacted"]`` records it either
    way). ``timings`` (optional) receives seconds per stage
    (``attribution``, ``deletion``, ``substitution``, ``self-check``).
    """
    styles = tuple(dict.fromkeys(styles))
    for s in styles:
        if s not in STYLES:
            raise ConfigError(f"unknown explanation style {s!r}; styles: {', '.join(STYLES)}")
    if isinstance(top_m, bool) or not isinstance(top_m, int) or top_m < 1:
        raise ConfigError(f"top_m must be a positive integer, got {top_m!r}")
    missing = [e.id for e in examples if e.id not in predicted]
    if missing:
        raise ConfigError(f"no prediction given for example(s) {', '.join(missing[:3])}")
    bad = sorted({predicted[e.id] for e in examples} - set(spec.task.labels))
    if bad:
        raise ConfigError(f"predictions {bad} are not labels of task {spec.task.name!r} ({', '.join(spec.task.labels)})")
    if checker is None or target_chooser is None:
        from . import checks  # se-checks' module; imported late so this one loads without it

        checker = checker or checks.check_explanations
        target_chooser = target_chooser or checks.choose_target
    clock = timings if timings is not None else {}
    result = PseudoResult()
    if not examples or not styles:
        return result
    ranker = get_method(method)
    if ranker.kind != "attribution":
        raise ConfigError(f"method {method!r} is not an attribution method (kind {ranker.kind!r}); "
                          "pseudo-explanations rank words by attribution scores, e.g. input_x_gradient")

    # 1. attribution of the predicted label -------------------------------------------------
    t0 = time.perf_counter()
    prompts = PromptBuilder(spec.task, backend)
    ctx = MethodContext(spec.task, backend, prompts, MethodOptions(seed=seed))
    rats = ranker.explain([RationaleRequest(e, predicted[e.id], top_m, "faithfulness") for e in examples], ctx)
    edit_ranges = {}
    top: dict[str, list[int]] = {}
    top_edit: dict[str, list[int]] = {}
    for e, rat in zip(examples, rats):
        if rat.scores is None:
            raise ConfigError(f"method {method!r} stores no per-word scores; choose an attribution method that does")
        visible = prompts.visible(e)
        words = e.words
        usable = [g for g in range(e.n_words) if g in visible and _usable(words[g])]
        start = e.field_offsets()[spec.edit_field]
        edit_ranges[e.id] = range(start, start + len(e.fields[spec.edit_field]))
        ranked = _ranked(rat.scores, usable)
        top[e.id] = ranked[:top_m]
        top_edit[e.id] = [g for g in ranked if g in edit_ranges[e.id]][:top_m]
    clock["attribution"] = clock.get("attribution", 0.0) + time.perf_counter() - t0

    # 2. deletion: one batched, deduplicated call ------------------------------------------
    t0 = time.perf_counter()
    deleted = {(e.id, g): spec.classify_prompt(replace_word(e, g, None)) for e in examples for g in {*top[e.id], *top_edit[e.id]}}
    original = {e.id: spec.classify_prompt(e) for e in examples}
    scored = _score(backend, [*original.values(), *deleted.values()], spec.answer_verbalizers())
    labels = spec.task.labels
    by_id = {e.id: e for e in examples}
    chosen: dict[str, int | None] = {}
    chosen_edit: dict[str, int | None] = {}
    for e in examples:
        pred = predicted[e.id]
        p0 = _forced_prob(scored[original[e.id]], pred, labels)
        drops = {g: p0 - _forced_prob(scored[deleted[(e.id, g)]], pred, labels) for g in {*top[e.id], *top_edit[e.id]}}

        def best(cands: list[int]) -> int | None:
            return max(cands, key=lambda g: (drops[g], -cands.index(g))) if cands else None

        chosen[e.id], chosen_edit[e.id] = best(top[e.id]), best(top_edit[e.id])
        if chosen[e.id] is not None and chosen[e.id] in edit_ranges[e.id]:
            chosen_edit[e.id] = chosen[e.id]
        info: dict[str, Any] = {"predicted": pred, "p_predicted": p0, "top": list(top[e.id]), "drops": {str(g): d for g, d in drops.items()},
                                "unknown_unredacted": scored[original[e.id]].predicted == spec.unknown}
        for key, g in (("", chosen[e.id]), ("edit_", chosen_edit[e.id])):
            info[f"{key}position"] = g
            info[f"{key}word"] = None if g is None else e.words[g]
            info[f"{key}drop"] = None if g is None else drops[g]
        result.chosen[e.id] = info
    clock["deletion"] = clock.get("deletion", 0.0) + time.perf_counter() - t0

    # 3. render the answers per style ------------------------------------------------------
    answers: dict[str, dict[str, str]] = {s: {} for s in styles}
    targets: dict[str, str | None] = {}
    for e in examples:
        if "attribution" in styles:
            if chosen[e.id] is None:
                result.drops["attribution: no usable word"] += 1
            else:
                answers["attribution"][e.id] = core(e.words[chosen[e.id]])
        if "redaction" in styles:
            g = chosen_edit[e.id]
            if g is None:
                result.drops["redaction: no usable word in the edit field"] += 1
            else:
                answers["redaction"][e.id] = replace_word(e, g, spec.marker).text(spec.edit_field)
    if "counterfactual" in styles:
        t0 = time.perf_counter()
        _counterfactuals(backend, spec, examples, predicted, chosen_edit, edit_ranges, seed, same_pos, antonym_limit,
                         target_chooser, answers["counterfactual"], targets, result)
        clock["substitution"] = clock.get("substitution", 0.0) + time.perf_counter() - t0

    # 4. keep what passes its own check ----------------------------------------------------
    t0 = time.perf_counter()
    for style in styles:
        ids = [e.id for e in examples if e.id in answers[style]]
        if not ids:
            continue
        exs = [by_id[i] for i in ids]
        style_targets = {i: (targets.get(i) if style == "counterfactual" else None) for i in ids}
        rows = checker(backend, spec, exs, style, "one", [answers[style][i] for i in ids], {i: predicted[i] for i in ids}, style_targets)
        if len(rows) != len(exs):
            raise RuntimeError(f"the self-consistency check returned {len(rows)} rows for {len(exs)} explanations")
        for e, row in zip(exs, rows):
            result.chosen[e.id].setdefault("checks", {})[style] = {"faithful": row.faithful, "recheck": row.recheck, "failure": row.failure}
            if row.failure is not None:
                result.drops[f"{style}: unparsed ({row.failure})"] += 1
            elif not row.faithful:
                result.drops[f"{style}: fails own check"] += 1
            elif strict_unknown and style != "counterfactual" and result.chosen[e.id]["unknown_unredacted"]:
                result.drops[f"{style}: unknown already without redaction"] += 1
            else:
                target = style_targets[e.id]
                result.items.append(TrainItem(example_id=e.id, task=spec.task.name, kind=style,
                                              prompt=spec.explain_prompt(style, "one", e, predicted[e.id], target),
                                              target=" " + answers[style][e.id]))
    clock["self-check"] = clock.get("self-check", 0.0) + time.perf_counter() - t0
    return result


def _counterfactuals(backend: Backend, spec: SelfConsistencySpec, examples: Sequence[Example], predicted: Mapping[str, str],
                     chosen_edit: Mapping[str, int | None], edit_ranges: Mapping[str, range], seed: int, same_pos: int, antonym_limit: int,
                     target_chooser: TargetChooser, answers: dict[str, str], targets: dict[str, str | None], result: PseudoResult) -> None:
    """Fill ``answers``/``targets`` with the flipping substitution of each example (or count a drop)."""
    tagger = Tagger.default()
    trials: dict[str, list[tuple[str, str, str, str]]] = {}  # id -> (token, source, edited field text, prompt)
    for e in examples:
        g = chosen_edit[e.id]
        if g is None:
            result.drops["counterfactual: no usable word in the edit field"] += 1
            continue
        target = target_chooser(spec, e, predicted[e.id], seed)
        targets[e.id] = target
        result.chosen[e.id]["target"] = target
        if target == predicted[e.id]:
            # target_from="gold" with a wrong prediction can name the predicted label itself:
            # "edit it so that it becomes what it already is" teaches nothing.
            result.drops["counterfactual: target equals the prediction"] += 1
            continue
        local = g - edit_ranges[e.id].start
        cands = candidates(tuple(e.fields[spec.edit_field]), local, antonym_limit=antonym_limit, same_pos=same_pos, tagger=tagger)
        if not cands:
            result.drops["counterfactual: no substitute candidates"] += 1
            continue
        trials[e.id] = []
        for token, source in cands:
            edited = replace_word(e, g, token)
            trials[e.id].append((token, source, edited.text(spec.edit_field), spec.classify_prompt(edited)))
    verbal = spec.answer_verbalizers()
    flips: dict[str, list[tuple[float, int, str, str, str]]] = {eid: [] for eid in trials}
    tried: dict[str, int] = {eid: 0 for eid in trials}
    # Round 1 scores every antonym of every example; round 2 the same-POS words of the
    # examples that no antonym flipped (each round one deduplicated score_labels call).
    for source in ("antonym", "same-pos"):
        todo = {eid: [(order, t) for order, t in enumerate(ts) if t[1] == source] for eid, ts in trials.items() if not flips[eid]}
        scored = _score(backend, [t[3] for ts in todo.values() for _, t in ts], verbal)
        for eid, ts in todo.items():
            tried[eid] += len(ts)
            for order, (token, src, text, prompt) in ts:
                sc = scored[prompt]
                if sc.predicted == targets[eid]:
                    flips[eid].append((_prob(sc, targets[eid]), -order, token, src, text))
    for eid in trials:
        result.chosen[eid]["candidates_tried"] = tried[eid]
        if not flips[eid]:
            result.drops["counterfactual: no substitute flips"] += 1
            continue
        p, _, token, source, text = max(flips[eid])
        result.chosen[eid].update(substitute=token, substitute_source=source, p_target=p, flipping_candidates=len(flips[eid]))
        answers[eid] = text
