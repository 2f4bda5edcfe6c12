"""Attention weights of the answer position only, without eager attention.

Attention attribution needs one row per layer and head: the weights from the position that
predicts the label to every input token. Eager attention would materialise every T x T
matrix (about 5 GB with a backward pass on one 1,266-token FEVER prompt). Instead the model
runs a registered attention function that is SDPA for the output and, while a capture is
active, also computes ``softmax(q_last K^T * scale + mask)`` for the last few queries from the
(already RoPE-rotated) queries and keys it is handed.

While a capture is active it can also *trim* one attention module (the last layer's): only the
last few query rows are computed, the others come back as zeros. Nothing reads the last
layer's other positions when only the answer positions' logits are kept (see
``gradients.trim_last_layer``).
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import torch

ATTN_IMPL = "faithscope_sdpa"
_state: dict[str, Any] = {"rows": None, "last": 0, "trim": None}


def _capture_attention(module, query, key, value, attention_mask, dropout=0.0, scaling=None, is_causal=None, **kwargs):
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    if _state["trim"] is module and query.shape[2] == key.shape[2]:
        out = _last_queries_only(module, query, key, value, attention_mask, dropout, scaling, _state["last"], **kwargs)
    else:
        out = sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout, scaling=scaling, is_causal=is_causal, **kwargs)
    rows = _state["rows"]
    if rows is not None:
        rows.append(_last_rows(module, query, key, attention_mask, scaling, _state["last"]))
    return out


def _causal_rows(mask: torch.Tensor | None, last: int, n_keys: int, device) -> torch.Tensor:
    """The attention mask of the last ``last`` queries (bool or additive, as given; causal if None)."""
    if mask is not None:
        return mask[:, :, -last:, -n_keys:]
    q_pos = torch.arange(n_keys - last, n_keys, device=device)[:, None]
    return (torch.arange(n_keys, device=device)[None, :] <= q_pos)[None, None]


def _last_queries_only(module, query, key, value, mask, dropout, scaling, last: int, **kwargs):
    """SDPA output (B, T, H, D) whose first T - ``last`` query rows are zeros (not computed)."""
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    n = query.shape[2]
    rows_mask = _causal_rows(mask, last, key.shape[2], query.device)
    out, weights = sdpa_attention_forward(module, query[:, :, -last:], key, value, rows_mask, dropout=dropout, scaling=scaling, is_causal=False, **kwargs)
    return torch.nn.functional.pad(out, (0, 0, 0, 0, n - last, 0)), weights


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
        m = _causal_rows(mask, last, n_keys, scores.device)  # None: SDPA ran with is_causal
        scores = scores.masked_fill(~m, float("-inf")) if m.dtype == torch.bool else scores + m.float()
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
def capture_last_rows(last: int, trim: torch.nn.Module | None = None) -> Iterator[list[torch.Tensor]]:
    """Collect, per layer, the attention rows of the last ``last`` positions of the next forward;
    ``trim`` (an attention module) computes its output for those positions only."""
    rows: list[torch.Tensor] = []
    _state["rows"], _state["last"], _state["trim"] = rows, last, trim
    try:
        yield rows
    finally:
        _state["rows"], _state["last"], _state["trim"] = None, 0, None
