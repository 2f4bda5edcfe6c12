"""A deterministic, fast stand-in backend that records what it was asked."""

from __future__ import annotations

import hashlib
import math

from faithscope.models.base import Backend, per_prompt_budgets, per_prompt_stops, truncate_at_stop
from faithscope.types import LabelScores


def _h(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest(), 16)


class FakeBackend(Backend):
    kind = "fake"

    def __init__(self, fail_on_score_call: int | None = None):
        self.scored: list[str] = []
        self.generated: list[str] = []
        self.score_calls = 0
        self.fail_on_score_call = fail_on_score_call

    @property
    def identity(self):
        return {"name": "fake"}

    @property
    def context_window(self) -> int:
        return 100000

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def score_labels(self, prompts, verbalizers):
        self.score_calls += 1
        if self.fail_on_score_call is not None and self.score_calls >= self.fail_on_score_call:
            raise KeyboardInterrupt("killed")
        self.scored.extend(prompts)
        labels = tuple(verbalizers)
        out = []
        for p in prompts:
            h = _h(p)
            out.append(LabelScores(labels, tuple(-((h >> (8 * i)) % 97) / 20.0 for i in range(len(labels)))))
        return out

    def generate(self, prompts, max_new_tokens, stop=None):
        budgets = per_prompt_budgets(max_new_tokens, len(prompts))
        stops = per_prompt_stops(stop, len(prompts))
        self.generated.extend(prompts)
        out = []
        for p, b, s in zip(prompts, budgets, stops):
            h = _h(p)
            words = [w.strip('".,') for w in p.split("\n")[-3].split()] if p.count("\n") >= 3 else p.split()
            if h % 5 == 0:
                reply = "\n\nnothing"  # an empty explanation
            else:
                reply = f" The word {words[h % len(words)]} decides it.\n\nPremise: more text"
            out.append(truncate_at_stop(reply, s))
        return out
