"""Fixed-score stand-ins for the pseudo-explanation builder's tests.

* :class:`WordModel` — a backend whose label log-probabilities are a fixed function of the
  input words it finds in the prompt (the first two quoted strings: premise, hypothesis), so
  every prompt the builder scores has a hand-computable answer;
* :func:`fixed_method` — registers an attribution method that returns fixed per-word scores;
* :func:`reference_check` — the self-consistency check as the design decisions of issue #14
  define it, for one-word replies (used until se-checks' ``checks.check_explanations`` lands;
  it is an independent computation of the verdict, not the builder's own code).
"""

from __future__ import annotations

import contextlib
import math
import re
from typing import Mapping, Sequence

from faithscope.counterfactual.pos import core
from faithscope.methods import REGISTRY
from faithscope.methods.base import RationaleMethod
from faithscope.models.base import Backend
from faithscope.selfexplain.types import CheckRow
from faithscope.types import Example, LabelScores, Rationale

BASE = {"entailment": 0.5, "contradiction": 0.0, "neutral": 0.2}


class WordModel(Backend):
    """logit(label) = BASE[label] + sum of WEIGHTS[word][label] over the input words present;
    logit(unknown) = 1.0 if the input holds the marker, else ``unknown_clean`` (-10)."""

    kind = "fake"

    def __init__(self, weights: Mapping[str, Mapping[str, float]], marker: str = "[REDACTED]", unknown_clean: float = -10.0):
        self.weights, self.marker, self.unknown_clean = weights, marker, unknown_clean
        self.calls: list[list[str]] = []

    @property
    def identity(self):
        return {"model": "word-model"}

    @property
    def context_window(self) -> int:
        return 100_000

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def input_words(self, prompt: str) -> list[str]:
        quoted = re.findall(r'"([^"]*)"', prompt)[:2]
        return [core(w).lower() for q in quoted for w in q.split()] + [w for q in quoted for w in q.split() if self.marker in w]

    def logits(self, prompt: str, labels: Sequence[str]) -> list[float]:
        words = self.input_words(prompt)
        out = []
        for lab in labels:
            if lab in BASE:
                out.append(BASE[lab] + sum(self.weights.get(w, {}).get(lab, 0.0) for w in words))
            else:  # the unknown answer
                out.append(1.0 if any(self.marker in w for w in words) else self.unknown_clean)
        return out

    def score_labels(self, prompts, verbalizers):
        self.calls.append(list(prompts))
        labels = tuple(verbalizers)
        res = []
        for p in prompts:
            lg = self.logits(p, labels)
            z = math.log(sum(math.exp(x) for x in lg))
            res.append(LabelScores(labels, tuple(x - z for x in lg)))
        return res

    def generate(self, prompts, max_new_tokens, stop=None):  # pragma: no cover - not used
        raise AssertionError("the builder must not generate")


@contextlib.contextmanager
def fixed_method(scores: Mapping[str, Sequence[float]], name: str = "fixed-scores"):
    """Register an attribution method returning ``scores[example.id]`` (removed afterwards)."""

    class Fixed(RationaleMethod):
        kind = "attribution"
        description = "fixed scores (tests)"

        def explain(self, requests, ctx):
            out = []
            for r in requests:
                s = tuple(float(x) for x in scores[r.example.id])
                top = tuple(sorted(range(len(s)), key=lambda g: -s[g])[: r.k])
                out.append(Rationale(method=name, positions=top, target_label=r.label, k=r.k, scores=s))
            return out

    Fixed.name = name
    REGISTRY[name] = Fixed
    try:
        yield name
    finally:
        REGISTRY.pop(name, None)


def _with_field(example: Example, field: str, text: str) -> Example:
    return Example(id=example.id, fields={**example.fields, field: tuple(text.split())}, label=example.label)


def reference_check(backend, spec, examples, style, mode, replies, predicted, targets) -> list[CheckRow]:
    """Issue #14's checks for one-word replies (independent of the builder's code)."""
    rows = []
    verbal = spec.answer_verbalizers()
    for e, reply in zip(examples, replies):
        failure = None
        if style == "attribution":
            word = core(reply.strip()).lower()
            if not word or word not in {core(w).lower() for w in e.words}:
                failure = "no input word"
                edited = e
            else:
                edited = Example(id=e.id, label=e.label, fields={
                    n: tuple(spec.marker if core(w).lower() == word else w for w in ws) for n, ws in e.fields.items()})
        else:
            text = reply.strip()
            if not text or (style == "redaction" and spec.marker not in text) or (style == "counterfactual" and text == spec.edit_text(e)):
                failure = "bad rewrite"
            edited = _with_field(e, spec.edit_field, text)
        if failure:
            rows.append(CheckRow(e.id, spec.task.name, style, mode, e.label, predicted[e.id], targets.get(e.id), reply, "", failure,
                                 None, None, predicted[e.id] == e.label))
            continue
        sc = backend.score_labels([spec.classify_prompt(edited)], verbal)[0]
        recheck = sc.predicted
        faithful = recheck == (targets[e.id] if style == "counterfactual" else spec.unknown)
        rows.append(CheckRow(e.id, spec.task.name, style, mode, e.label, predicted[e.id], targets.get(e.id), reply, reply.strip(), None,
                             recheck, faithful, predicted[e.id] == e.label, recheck_probs=sc.probs))
    return rows
