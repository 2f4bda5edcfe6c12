"""From subword scores to word scores, and deterministic top-k selection.

A token's score goes to the input word its character span overlaps most (SmolLM2's " Mount"
has offsets (6, 12) that start on the preceding space; the word "Mount" is (7, 12)). Word
score = sum of its tokens' scores (SPEC). Tokens of instruction text overlap no input word
and are dropped, so nothing outside the input fields can ever be selected.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from ..models.gradients import TokenAttributions

ATTRIBUTION_FIELDS = ("attention", "saliency", "input_x_gradient")


@dataclass(frozen=True)
class WordScores:
    """One score per global word position for each attribution method (0 for unseen words)."""

    attention: np.ndarray
    saliency: np.ndarray
    input_x_gradient: np.ndarray
    target_logprob: float
    truncated_words: int = 0
    seen: np.ndarray | None = None
    """Boolean mask of words present in the prompt (truncated words are not)."""


def token_to_word(offsets: Sequence[tuple[int, int]], word_spans: Sequence[tuple[int, int, int]]) -> list[int | None]:
    """Global word position of each token (largest character overlap, ties to the first)."""
    spans = sorted(word_spans, key=lambda s: s[1])
    starts = [s[1] for s in spans]
    out: list[int | None] = []
    for start, end in offsets:
        if end <= start:  # special tokens have empty spans
            out.append(None)
            continue
        i = max(bisect.bisect_right(starts, start) - 1, 0)
        best, best_overlap = None, 0
        while i < len(spans) and spans[i][1] < end:
            overlap = min(end, spans[i][2]) - max(start, spans[i][1])
            if overlap > best_overlap:
                best, best_overlap = spans[i][0], overlap
            i += 1
        out.append(best)
    return out


def aggregate(token_scores: np.ndarray, mapping: Sequence[int | None], n_words: int) -> np.ndarray:
    scores = np.zeros(n_words, dtype=np.float64)
    for value, word in zip(token_scores, mapping):
        if word is not None:
            scores[word] += value
    return scores


def word_scores(tokens: TokenAttributions, word_spans: Sequence[tuple[int, int, int]], n_words: int, truncated_words: int = 0) -> WordScores:
    mapping = token_to_word(tokens.offsets, word_spans)
    seen = np.zeros(n_words, dtype=bool)
    seen[[g for g, _, _ in word_spans]] = True
    return WordScores(
        *(aggregate(getattr(tokens, f), mapping, n_words) for f in ATTRIBUTION_FIELDS),
        target_logprob=tokens.target_logprob,
        truncated_words=truncated_words,
        seen=seen,
    )


def top_k(scores: Sequence[float], k: int, allowed: np.ndarray | None = None) -> tuple[int, ...]:
    """The ``k`` highest-scoring positions (most positive first), ties broken by position.

    Positions where ``allowed`` is False (words cut by truncation) are never selected.
    Returned in ascending position order."""
    if k <= 0:
        return ()
    candidates = [i for i in range(len(scores)) if allowed is None or allowed[i]]
    ranked = sorted(candidates, key=lambda i: (-float(scores[i]), i))
    return tuple(sorted(ranked[:k]))
