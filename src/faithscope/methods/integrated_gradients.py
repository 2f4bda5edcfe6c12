"""``integrated_gradients``: Integrated Gradients of the label target w.r.t. the input embeddings.

Conventions (recorded with every rationale in ``options.integrated_gradients`` and
``options.attribution``): baseline = the zero embedding for every prompt token, Captum's
default Gauss-Legendre rule, ``--ig-steps`` interpolation steps (default 20); target and
reduction are the shared attribution options (paper default: probability, L2 norm; the
``captum`` convention, log-probability and signed sum, equals Captum's
``LayerIntegratedGradients`` on the embedding layer). The steps of one prompt are batched
(:meth:`~faithscope.models.gradients.GradientEngine.integrated_gradients`); each
(example, label) is computed once per batch of requests. Selection = TOP-VAR, as the other
attribution methods (:func:`~faithscope.methods.word_scores.top_k`).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..types import Rationale
from . import register
from .base import MethodContext, RationaleMethod, RationaleRequest
from .word_scores import aggregate, token_to_word, top_k


@register
class IntegratedGradients(RationaleMethod):
    name = "integrated_gradients"
    description = "Integrated Gradients from the zero embedding (Gauss-Legendre, --ig-steps, default 20; L2 norm by default), top-k words."
    kind = "attribution"
    needs_gradients = True

    def explain(self, requests: Sequence[RationaleRequest], ctx: MethodContext) -> list[Rationale]:
        todo: dict[tuple[str, str], RationaleRequest] = {}
        for r in requests:
            todo.setdefault((r.example.id, r.label), r)
        fitted = {key: ctx.prompts.attribution(r.example) for key, r in todo.items()}
        verbal = ctx.prompts.verbalizers()
        tokens = ctx.gradient_engine().integrated_gradients(
            [f.text for f in fitted.values()], [verbal[r.label] for r in todo.values()], ctx.options.attribution, ctx.options.ig)
        words: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}
        for (key, r), f, t in zip(todo.items(), fitted.values(), tokens):
            seen = np.zeros(r.example.n_words, dtype=bool)
            seen[[g for g, _, _ in f.word_spans]] = True
            words[key] = aggregate(t.scores, token_to_word(t.offsets, f.word_spans), r.example.n_words), seen
        out = []
        for r in requests:
            scores, seen = words[(r.example.id, r.label)]
            out.append(Rationale(method=self.name, positions=top_k(scores, r.k, seen), target_label=r.label, k=r.k,
                                 scores=tuple(float(s) for s in scores)))
        return out
