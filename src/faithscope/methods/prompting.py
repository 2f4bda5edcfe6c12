"""Shared machinery of the prompting methods: ask the model for its important words.

The prompt is the task file's UNBOUND or TOP-VAR prompt with the label to explain (TRUE label
for alignment, PREDICTED for faithfulness). The raw reply, the parse status (with the reason
of a failure) and the reply words that are not in the input are kept with the rationale.
Reply words select only words of the task's ``reply_fields``, under its ``reply_occurrence``
rule (see :mod:`faithscope.tasks`).

Generation stops at EOS and at the task's ``rationale_stop`` sequences, and the parser reads a
reply only up to the first of them (:func:`reply_text`): the backend contract makes a stopped
reply equal the unstopped reply cut there, so the rationale is the same either way, while
generation no longer runs to the budget after the model has started a second answer.

TOP-VAR with k = 0 (an example without a human rationale) sends no prompt: asking for the
"top 0 words" has no answer. The example is recorded as a skipped rationale (``k=0``, no
positions, ``raw_reply`` None, ``skipped`` True) and the tables leave it out of TOP-VAR cells.
"""

from __future__ import annotations

from typing import ClassVar, Sequence

from ..models.base import truncate_at_stop
from ..types import Example, Rationale
from .base import MethodContext, RationaleMethod, RationaleRequest
from .reply_parser import parse_reply

TOKENS_PER_LISTED_WORD = 4
"""Generation budget per requested word: a word (~1.5 tokens) plus " | " separators."""


def reply_budget(bounded: bool, k: int, max_new_tokens: int) -> int:
    """New tokens allowed for a reply: room for k listed words (TOP-VAR), else ``max_new_tokens``."""
    return 16 + TOKENS_PER_LISTED_WORD * max(k, 1) if bounded else max_new_tokens


def selectable_positions(example: Example, fields: Sequence[str]) -> frozenset[int]:
    """Global positions of the words of ``fields`` (the fields a reply may select from)."""
    offsets = example.field_offsets()
    return frozenset(p for f in fields for p in range(offsets[f], offsets[f] + len(example.fields[f])))


def instruction_words(text: str, word_spans: Sequence[tuple[int, int, int]]) -> list[str]:
    """The words of a rendered prompt outside its input words (the template's own text)."""
    pieces, last = [], 0
    for _, start, end in sorted(word_spans, key=lambda s: s[1]):
        pieces.append(text[last:start])
        last = end
    pieces.append(text[last:])
    return " ".join(pieces).split()


def reply_text(reply: str, stops: Sequence[str]) -> str:
    """The part of a reply the parser reads and the store keeps: up to the first stop sequence
    after the leading whitespace (the same cut as the backends' ``stop``)."""
    return truncate_at_stop(reply, stops)


def skipped_rationale(method: str, label: str) -> Rationale:
    """The record of a TOP-VAR request with k = 0: nothing asked, nothing selected."""
    return Rationale(method=method, positions=(), target_label=label, k=0, raw_reply=None, parsed=True, skipped=True)


class PromptingMethod(RationaleMethod):
    kind = "prompting"
    bounded: ClassVar[bool]

    def budget(self, k: int, ctx: MethodContext) -> int:
        return reply_budget(self.bounded, k, ctx.options.max_new_tokens)

    def explain(self, requests: Sequence[RationaleRequest], ctx: MethodContext) -> list[Rationale]:
        asked = [r for r in requests if not (self.bounded and r.k == 0)]
        budgets = [self.budget(r.k, ctx) for r in asked]  # TOP-VAR: one per k
        fitted = [ctx.prompts.rationale(r.example, r.label, r.k if self.bounded else None, b) for r, b in zip(asked, budgets)]
        stops = ctx.task.rationale_stop
        replies = iter(ctx.generate([f.text for f in fitted], budgets, stops) if asked else [])
        fits = iter(fitted)
        fields, occurrence = ctx.task.selectable_reply_fields, ctx.task.reply_occurrence
        out = []
        for r in requests:
            if self.bounded and r.k == 0:
                out.append(skipped_rationale(self.name, r.label))
                continue
            reply, f = reply_text(next(replies), stops), next(fits)
            parsed = parse_reply(reply, r.example.words, r.k if self.bounded else None,
                                 selectable=selectable_positions(r.example, fields), occurrence=occurrence,
                                 instruction_words=instruction_words(f.text, f.word_spans))
            out.append(Rationale(
                method=self.name, positions=tuple(sorted(parsed.positions)), target_label=r.label,
                k=r.k if self.bounded else None, raw_reply=reply, parsed=parsed.parsed,
                not_found=parsed.not_found, n_reply_words=parsed.n_words, parse_error=parsed.reason,
            ))
        return out
