"""``random``: k random input words.

For alignment the rationale carries many seeded draws (``random_draws``, default 100) and the
reported F1 averages over them; for faithfulness one seeded draw per example is masked.
"""

from __future__ import annotations

from typing import Sequence

from ..types import Rationale
from . import register
from .base import MethodContext, RationaleMethod, RationaleRequest
from .baselines import example_rng


@register
class RandomWords(RationaleMethod):
    name = "random"
    description = "k random input words (alignment: mean over 100 seeded draws; flip rate: one seeded draw)."
    kind = "baseline"

    def explain(self, requests: Sequence[RationaleRequest], ctx: MethodContext) -> list[Rationale]:
        out = []
        for r in requests:
            n, k = r.example.n_words, min(r.k, r.example.n_words)
            draws = tuple(tuple(sorted(example_rng(ctx.options.seed, r.example.id, d).sample(range(n), k))) for d in range(ctx.options.random_draws))
            extra = draws[1:] if r.purpose == "alignment" else ()
            out.append(Rationale(method=self.name, positions=draws[0] if draws else (), target_label=r.label, k=r.k, draws=extra))
        return out
