"""Which words each faithfulness input of one rationale removes: the masking stage's plan.

For one rationale (of the PREDICTED label) and the example's visible window (the words its
unmasked, possibly truncated, classification prompt shows), the masking stage scores:

* ``removed`` -- the rationale's visible words deleted (flip rate, ERASER comprehensiveness);
* ``kept`` -- only the rationale's visible words kept (ERASER sufficiency), for every method;
* for *scored* methods (stored word scores), ERASER's AOPC bins: the top ``b`` of the visible
  words ranked by score (most positive first, ties by position, as :func:`top_k` selects)
  ``aopc_removed`` (deleted) and ``aopc_kept`` (only those kept), for b in 1/5/10/20/50 %.
  A bin holds ``max(1, ceil(b * n_visible))`` words (never more than ``n_visible``), so no bin is
  a 0 % bin even on a ten-word e-SNLI pair; ERASER's scorer leaves the bin size to the model
  code, this rule is ours and recorded here.

Rationale words outside the visible window (cut by truncation) are excluded from every
input and counted (``outside``): the model never saw them, so "masking" them measures nothing.
Everything is expressed as the set of positions to ``drop`` from the classification prompt.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import AbstractSet, Sequence

import numpy as np

from ..metrics.faithfulness import AOPC_BINS

REMOVED, KEPT, AOPC_REMOVED, AOPC_KEPT = "removed", "kept", "aopc_removed", "aopc_kept"
WHOLE = 1.0
"""``fraction`` of the whole-rationale inputs (``removed``, ``kept``): not a bin."""


@dataclass(frozen=True)
class Perturbation:
    """One input to score: ``drop`` = the positions deleted (or replaced) in the prompt;
    ``n_words`` = how many words were removed (``removed``/``aopc_removed``) or kept."""

    kind: str
    fraction: float
    drop: frozenset[int]
    n_words: int


@dataclass(frozen=True)
class Plan:
    """Every input of one rationale, and its words outside the visible window."""

    removed: Perturbation
    others: tuple[Perturbation, ...]
    outside: int


def bin_size(fraction: float, n_visible: int) -> int:
    """Words in an AOPC bin: ``max(1, ceil(fraction * n_visible))``, at most ``n_visible``."""
    if n_visible <= 0:
        return 0
    return min(n_visible, max(1, math.ceil(fraction * n_visible - 1e-9)))


def plan(positions: Sequence[int], scores: Sequence[float] | None, visible: AbstractSet[int], n_words: int,
         bins: Sequence[float] = AOPC_BINS) -> Plan:
    """The inputs of one rationale (see the module doc); ``scores`` ``None`` = unscored method."""
    chosen = frozenset(positions)
    seen = chosen & visible
    vis = frozenset(visible)
    removed = Perturbation(REMOVED, WHOLE, seen, len(seen))
    others = [Perturbation(KEPT, WHOLE, vis - seen, len(seen))]
    if scores is not None and vis:
        from ..methods.word_scores import top_k  # here: reports import this module's names without torch

        allowed = np.zeros(n_words, dtype=bool)
        allowed[sorted(vis)] = True
        for b in sorted(bins):
            top = frozenset(top_k(scores, bin_size(b, len(vis)), allowed))
            others.append(Perturbation(AOPC_REMOVED, b, top, len(top)))
            others.append(Perturbation(AOPC_KEPT, b, vis - top, len(top)))
    return Plan(removed, tuple(others), len(chosen - vis))
