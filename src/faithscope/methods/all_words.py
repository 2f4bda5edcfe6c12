"""``all-words``: every input word (Table 4's ALL row: masking it all tests whether the model reads its input)."""

from __future__ import annotations

from typing import Sequence

from ..types import Rationale
from . import register
from .base import MethodContext, RationaleMethod, RationaleRequest


@register
class AllWords(RationaleMethod):
    name = "all-words"
    description = "Every input word; masking ALL is the diagnostic of a model that ignores its input."
    kind = "baseline"

    def explain(self, requests: Sequence[RationaleRequest], ctx: MethodContext) -> list[Rationale]:
        return [Rationale(method=self.name, positions=tuple(range(r.example.n_words)), target_label=r.label, k=r.k) for r in requests]
