"""Shared machinery of attribution methods: rank words by score, keep the top k (TOP-VAR).

Attention, saliency and Input x Gradient read their scores from the one forward+backward pass
that :meth:`MethodContext.attributions` runs per (example, target label) and memoises.
"""

from __future__ import annotations

from typing import ClassVar, Sequence

from ..types import Rationale
from .base import MethodContext, RationaleMethod, RationaleRequest
from .word_scores import top_k


class AttributionMethod(RationaleMethod):
    kind = "attribution"
    needs_gradients = True
    field: ClassVar[str]

    def explain(self, requests: Sequence[RationaleRequest], ctx: MethodContext) -> list[Rationale]:
        out = []
        for r, ws in zip(requests, ctx.attributions(requests)):
            scores = getattr(ws, self.field)
            out.append(Rationale(
                method=self.name, positions=top_k(scores, r.k, ws.seen), target_label=r.label, k=r.k,
                scores=tuple(float(s) for s in scores),
            ))
        return out
