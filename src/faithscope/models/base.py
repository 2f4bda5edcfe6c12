"""What every model backend offers: label scoring, greedy generation, token counting.

A backend works on rendered prompt *strings*; rendering, truncation and word mapping stay in
the layers above so that every backend sees exactly the same text (and a server backend
receives the string the transformers backend scores). Gradient-based methods need
:attr:`Backend.supports_gradients`; a backend that lacks them refuses with a reason.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, Mapping, Sequence

from ..types import LabelScores

#: A generation budget: one number of new tokens for every prompt, or one per prompt.
Budget = int | Sequence[int]
#: Stop sequences: none, one list for every prompt, or one list per prompt.
Stops = Sequence[str] | Sequence[Sequence[str]] | None


def per_prompt_stops(stop: Stops, n_prompts: int) -> list[tuple[str, ...]]:
    """``stop`` as one tuple of non-empty stop strings per prompt."""
    if stop is None:
        return [()] * n_prompts
    stop = list(stop)
    if all(isinstance(s, str) for s in stop):
        one = tuple(s for s in stop if s)
        return [one] * n_prompts
    if len(stop) != n_prompts:
        raise ValueError(f"{len(stop)} stop lists for {n_prompts} prompts")
    return [tuple(x for x in s if x) for s in stop]


def find_stop(text: str, stops: Sequence[str]) -> int:
    """Index of the earliest stop string that starts after the reply's leading whitespace, or
    -1. Leading whitespace never stops a reply: small models often open with a blank line
    (SmolLM2's UNBOUND replies do) and a blank-line stop must not make them empty."""
    lead = len(text) - len(text.lstrip())
    best = -1
    for s in stops:
        i = text.find(s, lead) if s else -1
        if i >= 0 and (best < 0 or i < best):
            best = i
    return best


def truncate_at_stop(text: str, stops: Sequence[str]) -> str:
    """``text`` up to (not including) the earliest stop found by :func:`find_stop`."""
    i = find_stop(text, stops)
    return text if i < 0 else text[:i]


def per_prompt_budgets(max_new_tokens: Budget, n_prompts: int) -> list[int]:
    """``max_new_tokens`` as one budget per prompt (a clear error for a wrong-length list)."""
    if isinstance(max_new_tokens, int):
        return [max_new_tokens] * n_prompts
    budgets = [int(b) for b in max_new_tokens]
    if len(budgets) != n_prompts:
        raise ValueError(f"{len(budgets)} generation budgets for {n_prompts} prompts")
    return budgets


class Backend(ABC):
    """A model that can score a task's labels after a prompt and continue a prompt."""

    #: Short backend kind, stored with results (``transformers``, ``openai``).
    kind: str = "base"
    #: Whether attention/gradient attribution can run on this backend.
    supports_gradients: bool = False
    #: Why gradients are unavailable, shown when a method needs them.
    no_gradient_reason: str = "this backend exposes no gradients or attention weights"

    @property
    @abstractmethod
    def identity(self) -> Mapping[str, Any]:
        """What identifies the model (name, file hash or revision, adapter, dtype) in results.

        Must never include secrets such as API keys."""

    @property
    @abstractmethod
    def context_window(self) -> int:
        """Maximum number of tokens of prompt plus continuation."""

    @abstractmethod
    def count_tokens(self, text: str) -> int:
        """Number of prompt tokens ``text`` takes (for the truncation policy)."""

    @abstractmethod
    def score_labels(self, prompts: Sequence[str], verbalizers: Mapping[str, str]) -> list[LabelScores]:
        """Log-probability of each label's verbalizer after each prompt (teacher-forced)."""

    @abstractmethod
    def generate(self, prompts: Sequence[str], max_new_tokens: Budget, stop: Stops = None) -> list[str]:
        """Greedy continuations (temperature 0) of each prompt, without the prompt, of at most
        ``max_new_tokens`` tokens (one budget for all, or one per prompt). Generation of a
        prompt ends at EOS or as soon as its reply contains one of its ``stop`` strings (one
        list for all prompts, or one per prompt); the reply is cut before the stop string, so
        it equals the no-stop reply truncated at the stop."""

    def close(self) -> None:  # pragma: no cover - optional hook
        """Release resources (HTTP clients, threads)."""
