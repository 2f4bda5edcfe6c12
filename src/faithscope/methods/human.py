"""``human``: the human rationale itself (an upper bound for alignment, a reference for flip rate)."""

from __future__ import annotations

from typing import Sequence

from ..types import Rationale
from . import register
from .base import MethodContext, RationaleMethod, RationaleRequest


@register
class Human(RationaleMethod):
    name = "human"
    description = "The human rationale of the example (Table 4's HUMAN row)."
    kind = "baseline"

    def explain(self, requests: Sequence[RationaleRequest], ctx: MethodContext) -> list[Rationale]:
        return [Rationale(method=self.name, positions=tuple(sorted(r.example.rationale)), target_label=r.label, k=r.k) for r in requests]
