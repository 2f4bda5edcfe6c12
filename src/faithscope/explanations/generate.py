"""Batched generate-and-parse: every distinct prompt is generated once, in one backend call
(the backend plans token-budgeted batches), with per-prompt budgets and stop sequences."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from ..models.base import Backend, Budget, per_prompt_budgets, per_prompt_stops
from .parse import ParsedReply, parse_reply


@dataclass(frozen=True)
class ExplainedReply:
    raw: str
    parsed: ParsedReply


def generate_explanations(
    backend: Backend,
    prompts: Sequence[str],
    labels: Sequence[str],
    *,
    max_new_tokens: Budget,
    stop: Sequence[str] | Sequence[Sequence[str]] | None = None,
    expect_label: bool = False,
    order: str = "pe",
    shared_prefix: bool = False,
) -> list[ExplainedReply]:
    """One parsed reply per prompt; identical (prompt, budget, stops) are generated once.
    ``shared_prefix``: let a backend that supports it encode the prompts' common prefix once."""
    budgets = per_prompt_budgets(max_new_tokens, len(prompts))
    stops = per_prompt_stops(stop, len(prompts))
    keys = list(zip(prompts, budgets, stops))
    todo = list(dict.fromkeys(keys))
    extra = {"shared_prefix": True} if shared_prefix and getattr(backend, "supports_shared_prefix", False) else {}
    replies = backend.generate([k[0] for k in todo], [k[1] for k in todo], stop=[list(k[2]) for k in todo], **extra) if todo else []
    by_key = dict(zip(todo, replies))
    return [ExplainedReply(by_key[k], parse_reply(by_key[k], labels, expect_label=expect_label, order=order)) for k in keys]
