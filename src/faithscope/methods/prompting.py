"""Shared machinery of the prompting methods: ask the model for its important words.

The prompt is the task file's UNBOUND or TOP-VAR prompt with the label to explain (TRUE label
for alignment, PREDICTED for faithfulness). The raw reply, the parse status and the reply
words that are not in the input are kept with the rationale.
"""

from __future__ import annotations

from typing import ClassVar, Sequence

from ..types import Rationale
from .base import MethodContext, RationaleMethod, RationaleRequest
from .reply_parser import parse_reply

TOKENS_PER_LISTED_WORD = 4
"""Generation budget per requested word: a word (~1.5 tokens) plus " | " separators."""


def reply_budget(bounded: bool, k: int, max_new_tokens: int) -> int:
    """New tokens allowed for a reply: room for k listed words (TOP-VAR), else ``max_new_tokens``."""
    return 16 + TOKENS_PER_LISTED_WORD * max(k, 1) if bounded else max_new_tokens


class PromptingMethod(RationaleMethod):
    kind = "prompting"
    bounded: ClassVar[bool]

    def budget(self, k: int, ctx: MethodContext) -> int:
        return reply_budget(self.bounded, k, ctx.options.max_new_tokens)

    def explain(self, requests: Sequence[RationaleRequest], ctx: MethodContext) -> list[Rationale]:
        budgets = [self.budget(r.k, ctx) for r in requests]  # TOP-VAR: one per k
        fitted = [ctx.prompts.rationale(r.example, r.label, r.k if self.bounded else None, b) for r, b in zip(requests, budgets)]
        replies = ctx.generate([f.text for f in fitted], budgets)
        out = []
        for r, reply in zip(requests, replies):
            parsed = parse_reply(reply, r.example.words, r.k if self.bounded else None)
            out.append(Rationale(
                method=self.name, positions=tuple(sorted(parsed.positions)), target_label=r.label,
                k=r.k if self.bounded else None, raw_reply=reply, parsed=parsed.parsed,
                not_found=parsed.not_found, n_reply_words=parsed.n_words,
            ))
        return out
