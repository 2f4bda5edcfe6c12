"""Prompts that fit the model: optional chat wrapping and the explicit truncation policy.

Policy: when a rendered prompt plus the room reserved for the answer exceeds the context
window, trailing words of the task's ``truncate_field`` (FEVER: the evidence document) are
dropped until it fits. The number of dropped words is returned and stored with the result,
so truncation is never silent. Instruction text is never cut.

A *masked* classification prompt (some words deleted or replaced) is cut exactly where the
unmasked prompt of the same example was cut: masking deletes from the *visible* input only, so
no word the model never saw comes into view when others are removed (fitting the shorter masked
prompt from scratch would reveal trailing words). If a placeholder makes the masked prompt
longer than the window, further trailing words are dropped, never fewer.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import AbstractSet, Any, Callable, Literal

from ..errors import ConfigError
from ..types import Example
from . import Task
from .render import RenderedPrompt, attribution_prompt, classification_prompt, rationale_prompt

PromptFormat = Literal["plain", "chat"]


@dataclass(frozen=True)
class FittedPrompt:
    text: str
    word_spans: tuple[tuple[int, int, int], ...]
    truncated_words: int = 0
    hidden: frozenset[int] = frozenset()
    """Global positions of the words cut by truncation (the trailing ``truncated_words`` of the
    task's ``truncate_field``): outside the model's visible window."""


class PromptBuilder:
    """Renders a task's prompts for one backend (token counting) and prompt format."""

    def __init__(self, task: Task, backend: Any, *, prompt_format: PromptFormat = "plain", max_length: int | None = None, reserve_tokens: int = 8):
        if prompt_format not in ("plain", "chat"):
            raise ConfigError(f"unknown prompt format {prompt_format!r}; choose plain or chat")
        self.task, self.backend, self.prompt_format = task, backend, prompt_format
        self.max_length = max_length or backend.context_window
        self.reserve_tokens = reserve_tokens
        self._unmasked: dict[str, FittedPrompt] = {}  # example id -> its unmasked classification prompt

    def classification(self, example: Example, drop: AbstractSet[int] = frozenset(), placeholder: str | None = None) -> FittedPrompt:
        """The classification prompt, with the words in ``drop`` deleted (or replaced by
        ``placeholder``) from the window the unmasked prompt showed (see the module doc)."""
        base = self._unmasked.get(example.id)
        if base is None:
            base = self._fit(lambda d: classification_prompt(self.task, example, delete=d), example, self.reserve_tokens)
            self._unmasked[example.id] = base
        if not drop:
            return base
        return self._fit(lambda d: classification_prompt(self.task, example, drop, placeholder, d), example, self.reserve_tokens,
                         min_cut=base.truncated_words)

    def visible(self, example: Example) -> frozenset[int]:
        """Global positions of the words the unmasked classification prompt shows."""
        hidden = self.classification(example).hidden
        return frozenset(g for g in range(example.n_words) if g not in hidden)

    def attribution(self, example: Example) -> FittedPrompt:
        return self._fit(lambda d: attribution_prompt(self.task, example, d), example, self.reserve_tokens)

    def rationale(self, example: Example, label: str, k: int | None, max_new_tokens: int) -> FittedPrompt:
        return self._fit(lambda d: rationale_prompt(self.task, example, label, k, d), example, max_new_tokens)

    def _fit(self, render: Callable[[frozenset[int]], RenderedPrompt], example: Example, reserve: int, min_cut: int = 0) -> FittedPrompt:
        """Render with the fewest trailing ``truncate_field`` words cut (at least ``min_cut``)
        that make the prompt fit the window."""
        offsets = example.field_offsets()
        field = self.task.truncate_field
        start, n = offsets[field], len(example.fields[field])

        def cut(m: int) -> FittedPrompt:
            hidden = frozenset(range(start + n - m, start + n))
            return replace(self._wrap(render(hidden)), truncated_words=m, hidden=hidden)

        first = cut(min(min_cut, n))
        if self.backend.count_tokens(first.text) + reserve <= self.max_length:
            return first
        lo, hi = min(min_cut, n) + 1, n  # smallest number of trailing words to drop so that the prompt fits
        if self.backend.count_tokens(cut(n).text) + reserve > self.max_length:
            raise ConfigError(
                f"example {example.id}: the prompt does not fit in {self.max_length} tokens even with the whole "
                f"{field!r} field removed; raise --max-length or use a model with a longer context"
            )
        while lo < hi:
            mid = (lo + hi) // 2
            if self.backend.count_tokens(cut(mid).text) + reserve <= self.max_length:
                hi = mid
            else:
                lo = mid + 1
        return cut(lo)

    def _wrap(self, prompt: RenderedPrompt) -> FittedPrompt:
        if self.prompt_format == "plain":
            return FittedPrompt(prompt.text, prompt.word_spans)
        tokenizer = getattr(self.backend, "tokenizer", None)
        if tokenizer is None or not getattr(tokenizer, "chat_template", None):
            raise ConfigError("--prompt-format chat needs a model whose tokenizer has a chat template")
        wrapped = tokenizer.apply_chat_template([{"role": "user", "content": prompt.text}], add_generation_prompt=True, tokenize=False)
        shift = wrapped.index(prompt.text)
        return FittedPrompt(wrapped, tuple((g, s + shift, e + shift) for g, s, e in prompt.word_spans))

    def verbalizers(self) -> dict[str, str]:
        """In chat format the answer starts the assistant turn: no leading space."""
        if self.prompt_format == "chat":
            return {lab: v.lstrip(" ") for lab, v in self.task.verbalizers.items()}
        return dict(self.task.verbalizers)

