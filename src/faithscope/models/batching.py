"""Batches formed by a token budget: sort by length, fill up to ``max_tokens`` padded tokens.

Long FEVER documents (up to ~1,300 tokens) and short e-SNLI pairs (~90) then neither blow the
memory nor waste padding. Callers put results back in input order by the returned indices.
"""

from __future__ import annotations

from typing import Sequence

import torch

DEFAULT_MAX_BATCH_TOKENS = 4096


def plan_batches(lengths: Sequence[int], max_tokens: int = DEFAULT_MAX_BATCH_TOKENS, max_batch_size: int = 64) -> list[list[int]]:
    """Group indices of ``lengths`` so that ``len(batch) * max(length in batch) <= max_tokens``.

    Longest first, so the padded size of a batch is its first element's length. A single
    item longer than the budget still gets a batch of its own.
    """
    if max_tokens < 1 or max_batch_size < 1:
        raise ValueError("max_tokens and max_batch_size must be positive")
    order = sorted(range(len(lengths)), key=lambda i: (-lengths[i], i))
    batches: list[list[int]] = []
    current: list[int] = []
    width = 0
    for i in order:
        new_width = max(width, lengths[i])
        if current and (len(current) + 1 > max_batch_size or (len(current) + 1) * new_width > max_tokens):
            batches.append(current)
            current, new_width = [], lengths[i]
        current.append(i)
        width = new_width
    if current:
        batches.append(current)
    return batches


def left_pad(sequences: Sequence[Sequence[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Left-padded ``input_ids``, ``attention_mask`` and the matching ``position_ids``.

    Position ids must be passed explicitly: a bare forward would number the padding too and
    shift every real token, so a batched score would differ from a one-at-a-time score.
    """
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, seq in enumerate(sequences):
        if len(seq):
            ids[row, width - len(seq):] = torch.as_tensor(list(seq), dtype=torch.long)
            mask[row, width - len(seq):] = 1
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    return ids, mask, positions
