"""``occlusion``: leave-one-word-out.

Each visible input word of the classification prompt is deleted in turn, exactly as the
masking stage deletes a rationale (``PromptBuilder.classification(example, {i})``), and the
prompt is re-scored. Word score = log p(label | prompt) - log p(label | prompt without the
word): the drop of the target label's log-probability (full verbalizer sequence, not
renormalised over the labels), so a positive score means the word supports the label.
Words cut by truncation are never deleted nor selected. All deletions of a batch of requests
go to the backend in one ``score_labels`` call (batched by its token budget); identical
prompts (e.g. deleting either word of "the the") are scored once, and the alignment and
faithfulness requests of an example share them. Selection = TOP-VAR (top k by score, ties by
position). Needs real log-probabilities of the target label (no gradients): a server that
cannot give them is an error, never an invented number.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from ..errors import ModelError
from ..types import Example, LabelScores, Rationale
from . import register
from .base import MethodContext, RationaleMethod, RationaleRequest
from .word_scores import top_k


def deletion_prompts(example: Example, ctx: MethodContext) -> tuple[str, tuple[int, ...], list[str]]:
    """The unmasked classification prompt, its visible word positions, and one prompt per
    visible word with that word deleted."""
    fitted = ctx.prompts.classification(example)
    visible = tuple(sorted(g for g, _, _ in fitted.word_spans))
    return fitted.text, visible, [ctx.prompts.classification(example, frozenset({i})).text for i in visible]


def occlusion_scores(example: Example, label: str, original: LabelScores, visible: Sequence[int], deleted: Sequence[LabelScores]) -> np.ndarray:
    """Drop of ``label``'s log-probability per deleted word (0 for words never shown)."""
    base = original.logprob(label)
    scores = np.zeros(example.n_words, dtype=np.float64)
    for i, s in zip(visible, deleted):
        lp = s.logprob(label)
        if not (math.isfinite(base) and math.isfinite(lp)) or s.source != "logprobs" or original.source != "logprobs":
            raise ModelError(f"occlusion needs the log-probability of {label!r} for every deletion; example {example.id} "
                             f"got {lp!r} (source {s.source!r}): use a backend that scores every label")
        scores[i] = base - lp
    return scores


@register
class Occlusion(RationaleMethod):
    name = "occlusion"
    description = "Leave-one-word-out: drop of the label's log-probability when the word is deleted (batched, deduplicated), top-k words."
    kind = "attribution"

    def explain(self, requests: Sequence[RationaleRequest], ctx: MethodContext) -> list[Rationale]:
        prompts = {r.example.id: deletion_prompts(r.example, ctx) for r in requests}
        unique = list(dict.fromkeys(t for orig, _, deleted in prompts.values() for t in (orig, *deleted)))
        scored = dict(zip(unique, ctx.backend.score_labels(unique, ctx.prompts.verbalizers())))
        out = []
        for r in requests:
            orig, visible, deleted = prompts[r.example.id]
            scores = occlusion_scores(r.example, r.label, scored[orig], visible, [scored[t] for t in deleted])
            seen = np.zeros(r.example.n_words, dtype=bool)
            seen[list(visible)] = True
            out.append(Rationale(method=self.name, positions=top_k(scores, r.k, seen), target_label=r.label, k=r.k,
                                 scores=tuple(float(s) for s in scores)))
        return out
