"""A backend of fixed scores for the self-consistency tests: the answer to a prompt is chosen
by a rule the test gives; generation replies come from a table; every call is recorded."""

from __future__ import annotations

from typing import Callable, Mapping, Sequence

from faithscope.models.base import Backend
from faithscope.types import LabelScores


class FixedBackend(Backend):
    kind = "fixed"

    def __init__(self, answer: Callable[[str], str], replies: Mapping[str, str] | Callable[[str], str] | None = None,
                 margin: float = 3.0):
        self.answer = answer
        self.replies = replies or {}
        self.margin = margin
        self.score_calls: list[tuple[list[str], dict[str, str]]] = []
        self.generate_calls: list[tuple[list[str], list[int], object]] = []

    @property
    def identity(self):
        return {"name": "fixed"}

    @property
    def context_window(self) -> int:
        return 10_000

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def score_labels(self, prompts: Sequence[str], verbalizers: Mapping[str, str]) -> list[LabelScores]:
        self.score_calls.append((list(prompts), dict(verbalizers)))
        labels = tuple(verbalizers)
        out = []
        for p in prompts:
            best = self.answer(p)
            out.append(LabelScores(labels=labels, logprobs=tuple(0.0 if lab == best else -self.margin for lab in labels)))
        return out

    def generate(self, prompts: Sequence[str], max_new_tokens, stop=None) -> list[str]:
        self.generate_calls.append((list(prompts), list(max_new_tokens) if not isinstance(max_new_tokens, int) else [max_new_tokens] * len(prompts), stop))
        if callable(self.replies):
            return [self.replies(p) for p in prompts]
        return [self.replies.get(p, "") for p in prompts]

    @property
    def scored_prompts(self) -> list[str]:
        return [p for prompts, _ in self.score_calls for p in prompts]
