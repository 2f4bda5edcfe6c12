"""Attention weights of the answer position only, without eager attention.

Attention attribution needs one row per layer and head: the weights from the position that
predicts the label to every input token. Eager attention would materialise every T x T
matrix (about 5 GB with a backward pass on one 1,266-token FEVER prompt). Instead the model
runs a registered attention function that is SDPA for the output and, while a capture is
active, also computes ``softmax(q_last K^T * scale + mask)`` for the last few queries from the
(already RoPE-rotated) queries and keys it is handed.
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import torch

ATTN_IMPL = "faithscope_sdpa"
_state: dict[str, Any] = {"rows": None, "last": 0}


def _capture_attention(module, query, key, value, attention_mask, dropout=0.0, scaling=None, is_causal=None, **kwargs):
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    out = sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, is_causal=is_causal, **kwargs)
    rows = _state["rows"]
    if rows is not None:
        rows.append(_last_rows(module, query, key, attention_mask, scaling, _state["last"]))
    return out


def _last_rows(module, query: torch.Tensor, key: torch.Tensor, mask: torch.Tensor | None, scaling: float | None, last: int) -> torch.Tensor:
    """Attention probabilities of the last ``last`` query positions: (B, H, last, K)."""
    with torch.no_grad():
        q = query[:, :, -last:, :].detach().float()
        k = key.detach().float()
        batch, heads, _, dim = q.shape
        kv_heads, n_keys = k.shape[1], k.shape[2]
        groups = heads // kv_heads
        scale = scaling if scaling is not None else dim ** -0.5
        # grouped-query attention without repeating the keys: query head h reads kv head
        # h // groups, so fold each group's queries into one (groups * last) block
        scores = torch.matmul(q.reshape(batch, kv_heads, groups * last, dim), k.transpose(-1, -2))
        scores = scores.view(batch, heads, last, n_keys) * scale
        if mask is not None:
            m = mask[:, :, -last:, -n_keys:]
            if m.dtype == torch.bool:
                scores = scores.masked_fill(~m, float("-inf"))
            else:
                scores = scores + m.float()
        else:  # no padding: SDPA ran with is_causal; the last rows see keys up to themselves
            q_pos = torch.arange(n_keys - last, n_keys, device=scores.device)[:, None]
            k_pos = torch.arange(n_keys, device=scores.device)[None, :]
            scores = scores.masked_fill(k_pos > q_pos, float("-inf"))
        return torch.softmax(scores, dim=-1)


def install(model) -> None:
    """Make ``model`` run SDPA through the capturing function (same outputs as SDPA)."""
    from transformers import AttentionInterface
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask

    AttentionInterface.register(ATTN_IMPL, _capture_attention)
    ALL_MASK_ATTENTION_FUNCTIONS.register(ATTN_IMPL, sdpa_mask)
    if hasattr(model, "set_attn_implementation"):
        model.set_attn_implementation(ATTN_IMPL)
    else:  # pragma: no cover - older transformers
        model.config._attn_implementation = ATTN_IMPL


@contextlib.contextmanager
def capture_last_rows(last: int) -> Iterator[list[torch.Tensor]]:
    """Collect, per layer, the attention rows of the last ``last`` positions of the next forward."""
    rows: list[torch.Tensor] = []
    _state["rows"], _state["last"] = rows, last
    try:
        yield rows
    finally:
        _state["rows"], _state["last"] = None, 0
