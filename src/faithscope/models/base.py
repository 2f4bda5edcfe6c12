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
    def generate(self, prompts: Sequence[str], max_new_tokens: Budget) -> list[str]:
        """Greedy continuations (temperature 0) of each prompt, without the prompt, of at most
        ``max_new_tokens`` tokens (one budget for all, or one per prompt)."""

    def close(self) -> None:  # pragma: no cover - optional hook
        """Release resources (HTTP clients, threads)."""
