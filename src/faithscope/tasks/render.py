"""Render a task prompt for an example and remember where each input word landed.

Attribution needs to map subword scores back to *words*; masking needs to delete words of
the input fields and never instruction text. Both follow from one record: the character span
of every selectable word inside the rendered prompt. ``str.format`` cannot give those spans,
so the template is walked piece by piece here.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import AbstractSet

from ..types import Example
from . import Task


@dataclass(frozen=True)
class RenderedPrompt:
    """A prompt string and the spans ``(global_position, start, end)`` of its input words."""

    text: str
    word_spans: tuple[tuple[int, int, int], ...]


def render(
    template: str,
    example: Example,
    *,
    label: str | None = None,
    k: int | None = None,
    drop: AbstractSet[int] = frozenset(),
    placeholder: str | None = None,
    delete: AbstractSet[int] = frozenset(),
) -> RenderedPrompt:
    """Fill ``template`` with the example's fields.

    Words whose global position is in ``drop`` are deleted (``placeholder is None``) or each
    replaced by ``placeholder``; words in ``delete`` (truncation) are always deleted. Only
    field words are ever touched: the template text stays.
    """
    offsets = example.field_offsets()
    parts: list[str] = []
    spans: list[tuple[int, int, int]] = []
    pos = 0
    for literal, name, spec, conv in string.Formatter().parse(template):
        parts.append(literal)
        pos += len(literal)
        if name is None:
            continue
        if name in example.fields:
            first = True
            for i, word in enumerate(example.fields[name]):
                g = offsets[name] + i
                if g in delete:
                    continue
                if g in drop:
                    if placeholder is None:
                        continue
                    word = placeholder
                if not first:
                    parts.append(" ")
                    pos += 1
                first = False
                parts.append(word)
                if g not in drop:
                    spans.append((g, pos, pos + len(word)))
                pos += len(word)
        elif name == "label":
            if label is None:
                raise ValueError("this prompt needs a label")
            parts.append(label)
            pos += len(label)
        elif name == "k":
            if k is None:
                raise ValueError("this prompt needs k")
            parts.append(str(k))
            pos += len(str(k))
        else:
            raise ValueError(f"unknown placeholder {{{name}}} in prompt template")
    return RenderedPrompt("".join(parts), tuple(spans))


def classification_prompt(task: Task, example: Example, drop: AbstractSet[int] = frozenset(), placeholder: str | None = None, delete: AbstractSet[int] = frozenset()) -> RenderedPrompt:
    return render(task.prompts["classification"], example, drop=drop, placeholder=placeholder, delete=delete)


def attribution_prompt(task: Task, example: Example, delete: AbstractSet[int] = frozenset()) -> RenderedPrompt:
    """The attribution prompt up to (not including) the label; the label's verbalizer is the
    teacher-forced target appended as tokens by the model backend."""
    template = task.prompts["attribution"]
    prefix = template[: -len("{label}")].rstrip(" ")
    return render(prefix, example, delete=delete)


def rationale_prompt(task: Task, example: Example, label: str, k: int | None, delete: AbstractSet[int] = frozenset()) -> RenderedPrompt:
    """UNBOUND prompt when ``k is None``, TOP-VAR otherwise."""
    if k is None:
        return render(task.prompts["unbound"], example, label=label, delete=delete)
    return render(task.prompts["topk"], example, label=label, k=k, delete=delete)
