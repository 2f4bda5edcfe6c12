"""Attention, saliency and Input x Gradient for a batch from ONE forward and ONE backward.

Each row is an attribution prompt followed by its target label's verbalizer tokens but the
last (teacher-forced; the last one is only predicted). Gradients flow to the input embeddings
only (weights are frozen); logits are computed only at the positions that predict the label
tokens, with an accurate backward through the output layer (``_VocabProjection``); the
attention row of the answer position is captured during the same forward (see
``attention_capture``). The last decoder layer runs its queries, attention output projection
and MLP at the answer positions only (``trim_last_layer``): its other positions feed no
logit. Batches follow a token budget (``batching.plan_batches``); results come back in input
order.

Conventions (recorded with every result):
- ``target``: ``probability`` (the paper's / Inseq's default: probability of the label's token
  sequence), ``log_probability`` (Captum's LLM attribution: sum of the tokens' log-probs) or
  ``logit`` (sum of the label tokens' logits).
- ``reduction`` over the embedding dimension: ``l2`` (Inseq's default; unsigned), ``sum``
  (signed; Captum's), ``abs_sum``.
- ``attention``: ``mean`` over layers and heads (Inseq's default) or ``last_layer`` (mean over
  its heads).

Integrated Gradients (:meth:`GradientEngine.integrated_gradients`) uses the same rows and
objective, one row per (prompt, interpolation step): the prompt's token embeddings are scaled
by the step's alpha (baseline = the zero embedding, so ``baseline + alpha (x - baseline)`` is
``alpha x``; the label tokens stay as they are, as in Captum's LLM attribution), the rows of
one prompt share as few forward/backward passes as the token budget allows, and the
gradients are summed with the rule's weights and multiplied by ``x - baseline``
(:class:`IGConfig`: steps, rule, baseline; recorded with every result).
"""

from __future__ import annotations

import contextlib
from dataclasses import asdict, dataclass
from typing import Any, Iterator, Literal, Sequence

import numpy as np
import torch

from ..errors import ConfigError
from . import attention_capture
from .batching import left_pad, plan_batches

Target = Literal["probability", "log_probability", "logit"]
Reduction = Literal["l2", "sum", "abs_sum"]
AttentionAgg = Literal["mean", "last_layer"]
TARGETS = ("probability", "log_probability", "logit")
REDUCTIONS = ("l2", "sum", "abs_sum")
ATTENTION_AGGS = ("mean", "last_layer")


@dataclass(frozen=True)
class AttributionConfig:
    """How scores are computed. Default = the paper's convention (Inseq defaults)."""

    target: Target = "probability"
    reduction: Reduction = "l2"
    attention: AttentionAgg = "mean"

    def __post_init__(self) -> None:
        for value, allowed, name in ((self.target, TARGETS, "target"), (self.reduction, REDUCTIONS, "reduction"), (self.attention, ATTENTION_AGGS, "attention")):
            if value not in allowed:
                raise ValueError(f"unknown attribution {name} {value!r}; choose one of {', '.join(allowed)}")

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


CAPTUM_CONVENTION = AttributionConfig(target="log_probability", reduction="sum")

IGRule = Literal["gausslegendre"]
IG_RULES = ("gausslegendre",)
IG_BASELINES = ("zero",)
DEFAULT_IG_STEPS = 20
"""20 steps: Gauss-Legendre is exact for polynomials of degree 39 in alpha; the attribution
benchmark measures the gap to Captum at the same steps, not the gap to the integral."""


@dataclass(frozen=True)
class IGConfig:
    """Integrated Gradients settings. ``rule`` is Captum's default (``gausslegendre``: nodes
    and weights of the Gauss-Legendre quadrature mapped to [0, 1]); ``baseline`` ``zero`` is
    the all-zero embedding for every prompt token."""

    steps: int = DEFAULT_IG_STEPS
    rule: IGRule = "gausslegendre"
    baseline: str = "zero"

    def __post_init__(self) -> None:
        if not isinstance(self.steps, int) or self.steps < 1:
            raise ConfigError(f"--ig-steps must be a positive number of interpolation steps, not {self.steps!r}")
        if self.rule not in IG_RULES:
            raise ConfigError(f"unknown Integrated Gradients rule {self.rule!r}; choose one of {', '.join(IG_RULES)}")
        if self.baseline not in IG_BASELINES:
            raise ConfigError(f"unknown Integrated Gradients baseline {self.baseline!r}; choose one of {', '.join(IG_BASELINES)}")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def ig_nodes(steps: int, rule: IGRule = "gausslegendre") -> tuple[np.ndarray, np.ndarray]:
    """Interpolation points ``alphas`` in [0, 1] and their weights (summing to 1)."""
    if rule != "gausslegendre":
        raise ConfigError(f"unknown Integrated Gradients rule {rule!r}; choose one of {', '.join(IG_RULES)}")
    x, w = np.polynomial.legendre.leggauss(steps)
    return 0.5 * (x + 1.0), 0.5 * w


@dataclass(frozen=True)
class TokenScores:
    """One score per prompt token (label tokens excluded) of one attribution prompt."""

    input_ids: tuple[int, ...]
    offsets: tuple[tuple[int, int], ...]
    scores: np.ndarray


@dataclass(frozen=True)
class TokenAttributions:
    """Per prompt token scores of one attribution prompt (label tokens excluded)."""

    input_ids: tuple[int, ...]
    offsets: tuple[tuple[int, int], ...]
    attention: np.ndarray
    saliency: np.ndarray
    input_x_gradient: np.ndarray
    target_logprob: float


VOCAB_CHUNK = 4096


class _VocabProjection(torch.autograd.Function):
    """``F.linear(hidden, weight, bias)`` whose backward sums over the vocabulary in chunks.

    Logits are kept at a handful of positions only, so the output layer's backward
    ``grad_logits @ weight`` has very few rows and a reduction over the whole vocabulary
    (49k to 256k). For so few rows BLAS picks a matrix-vector kernel that accumulates the
    whole reduction in one float32 running sum: on SmolLM2 that put a relative error of about
    1e-4 on the last prompt token's gradient (full-vocabulary GEMMs over every position, as
    Captum and Inseq compute, stay near 1e-6). Summing per-chunk products in float64 costs
    the same reads of ``weight`` and stays near 1e-6.
    """

    @staticmethod
    def forward(ctx, hidden, weight, bias):
        ctx.save_for_backward(weight)
        return torch.nn.functional.linear(hidden, weight, bias)

    @staticmethod
    def backward(ctx, grad_logits):
        (weight,) = ctx.saved_tensors
        acc = torch.float32 if weight.device.type == "mps" else torch.float64  # MPS has no float64
        total = None
        for start in range(0, weight.shape[0], VOCAB_CHUNK):
            part = torch.matmul(grad_logits[..., start:start + VOCAB_CHUNK].to(weight.dtype), weight[start:start + VOCAB_CHUNK]).to(acc)
            total = part if total is None else total + part
        return total.to(grad_logits.dtype), None, None


def project_vocab(lm_head, hidden: torch.Tensor) -> torch.Tensor:
    """Logits of ``hidden`` rows; a plain linear output layer gets the accurate backward."""
    if type(lm_head) is torch.nn.Linear:
        return _VocabProjection.apply(hidden, lm_head.weight, lm_head.bias)
    return lm_head(hidden)


def _last_decoder_layer(decoder) -> torch.nn.Module | None:
    """The last layer of a decoder with the usual ``layers[i].self_attn`` / ``.mlp`` layout."""
    layers = getattr(decoder, "layers", None)
    if not isinstance(layers, torch.nn.ModuleList) or not len(layers):
        return None
    layer = layers[-1]
    ok = isinstance(getattr(layer, "mlp", None), torch.nn.Module) and isinstance(getattr(getattr(layer, "self_attn", None), "o_proj", None), torch.nn.Module)
    return layer if ok else None


@contextlib.contextmanager
def trim_last_layer(decoder, last: int) -> Iterator[torch.nn.Module | None]:
    """While active, the last decoder layer's attention output projection and MLP (both
    position-wise) run on the last ``last`` positions only; the other positions get zeros.

    Yields the last layer's attention module (for ``capture_last_rows(trim=...)``, which then
    computes its attention for those positions only), or None for a layout it does not know
    (nothing is trimmed: same results, a little slower). Only the answer positions' hidden
    states may be read while it is active. Saves ~1/n_layers of the forward and backward.
    """
    layer = _last_decoder_layer(decoder)
    if layer is None or last < 1:
        yield None
        return

    width = [0]  # positions of the current forward: the sliced modules give them back

    def keep_last(_module, args):
        width[0] = args[0].shape[1]
        return (args[0][:, -last:], *args[1:])

    def pad_back(_module, args, output):
        pad = lambda t: torch.nn.functional.pad(t, (0, 0, width[0] - t.shape[1], 0))  # noqa: E731
        return (pad(output[0]), *output[1:]) if isinstance(output, tuple) else pad(output)

    handles = []
    for module in (layer.self_attn.o_proj, layer.mlp):
        handles += [module.register_forward_pre_hook(keep_last), module.register_forward_hook(pad_back)]
    try:
        yield layer.self_attn
    finally:
        for h in handles:
            h.remove()


def reduce(values: torch.Tensor, how: Reduction) -> torch.Tensor:
    """Collapse the embedding dimension (last) of per-token vectors."""
    if how == "l2":
        return values.norm(dim=-1)
    if how == "sum":
        return values.sum(dim=-1)
    return values.abs().sum(dim=-1)


class GradientEngine:
    """Runs the one-pass attribution on a :class:`~faithscope.models.hf.HFBackend`."""

    def __init__(self, backend, *, max_batch_tokens: int | None = None, max_batch_size: int | None = None):
        self.backend = backend
        self.model = backend.model
        self.tokenizer = backend.tokenizer
        self.max_batch_tokens = max_batch_tokens or backend.max_batch_tokens
        self.max_batch_size = max_batch_size or backend.max_batch_size
        attention_capture.install(self.model)
        self.decoder = self.model.get_decoder() if hasattr(self.model, "get_decoder") else self.model.model
        self.lm_head = self.model.get_output_embeddings()
        self.embed = self.model.get_input_embeddings()

    def attribute(self, prompts: Sequence[str], targets: Sequence[str], config: AttributionConfig = AttributionConfig()) -> list[TokenAttributions]:
        """Scores of every prompt token for the verbalizer ``targets[i]`` after ``prompts[i]``."""
        encs = [self.tokenizer(p, return_offsets_mapping=True) for p in prompts]
        tids = [self.backend.verbalizer_ids(t) for t in targets]
        lengths = [len(e.input_ids) + len(t) - 1 for e, t in zip(encs, tids)]  # rows fed: prompt + label tokens but the last
        out: list[TokenAttributions | None] = [None] * len(prompts)
        for batch in plan_batches(lengths, self.max_batch_tokens, self.max_batch_size):
            results = self._batch([list(encs[i].input_ids) for i in batch], [tids[i] for i in batch], config)
            for (att, sal, ixg, lp), i in zip(results, batch):
                out[i] = TokenAttributions(tuple(encs[i].input_ids), tuple(map(tuple, encs[i].offset_mapping)), att, sal, ixg, lp)
        return out  # type: ignore[return-value]

    def integrated_gradients(self, prompts: Sequence[str], targets: Sequence[str], config: AttributionConfig = AttributionConfig(),
                             ig: IGConfig = IGConfig()) -> list[TokenScores]:
        """Integrated Gradients of every prompt token for the verbalizer ``targets[i]``.

        Token score = ``reduce((x - baseline) * sum_s w_s grad(baseline + alpha_s (x - baseline)))``
        over the embedding dimension, for ``config``'s target and reduction (the Captum
        convention, log-probability and signed sum, is Captum's ``LayerIntegratedGradients``
        on the embedding layer). Rows = (prompt, step), batched by the token budget: the steps
        of one prompt are adjacent, so a short prompt's steps share one or two passes."""
        alphas, weights = ig_nodes(ig.steps, ig.rule)
        encs = [self.tokenizer(p, return_offsets_mapping=True) for p in prompts]
        tids = [self.backend.verbalizer_ids(t) for t in targets]
        rows = [(i, s) for i in range(len(prompts)) for s in range(ig.steps)]  # prompt-major: a prompt's steps stay together
        lengths = [len(encs[i].input_ids) + len(tids[i]) - 1 for i, _ in rows]
        summed: list[np.ndarray | None] = [None] * len(prompts)
        inputs: list[torch.Tensor | None] = [None] * len(prompts)
        for batch in plan_batches(lengths, self.max_batch_tokens, self.max_batch_size):
            picked = [rows[j] for j in batch]
            prompt_ids = [list(encs[i].input_ids) for i, _ in picked]
            target_ids = [tids[i] for i, _ in picked]
            grad, embeds, spans, _, _ = self._forward_backward(prompt_ids, target_ids, config, scales=[float(alphas[s]) for _, s in picked])
            for b, (i, s) in enumerate(picked):
                g = grad[b, spans[b]].double().cpu() * float(weights[s])
                summed[i] = g if summed[i] is None else summed[i] + g
                if inputs[i] is None:
                    inputs[i] = embeds[b, spans[b]].double().cpu()
        out = []
        for i, e in enumerate(encs):
            baseline = torch.zeros_like(inputs[i])  # IG_BASELINES: "zero"
            scores = reduce((inputs[i] - baseline) * summed[i], config.reduction).numpy()
            out.append(TokenScores(tuple(e.input_ids), tuple(map(tuple, e.offset_mapping)), scores.astype(np.float64)))
        return out

    def _forward_backward(self, prompt_ids: list[list[int]], target_ids: list[tuple[int, ...]], config: AttributionConfig,
                          scales: Sequence[float] | None = None, capture_attention: bool = False):
        """One forward and one backward of a batch of rows (prompt + label tokens but the last).

        ``scales[b]`` multiplies row b's prompt-token embeddings (the IG interpolation with a
        zero baseline); label-token embeddings are never scaled. Returns the float32
        gradient w.r.t. the (scaled) input embeddings, the unscaled embeddings, each row's
        prompt slice, the captured attention rows (empty unless ``capture_attention``) and
        each row's label log-probability."""
        device = self.backend.device
        # Each row is the prompt and the label's tokens but the last: the last token is only
        # predicted, never read, so feeding it would cost one position per row for nothing.
        seqs = [p + list(t[:-1]) for p, t in zip(prompt_ids, target_ids)]
        ids, mask, pos = (x.to(device) for x in left_pad(seqs, self.tokenizer.pad_token_id))
        width = ids.shape[1]
        # the last ``last`` positions hold every row's answer position (the one predicting
        # its first label token, width - len(t)) and the positions predicting the rest
        last = max(len(t) for t in target_ids)
        row_idx = [b for b, t in enumerate(target_ids) for _ in t]
        col_idx = [width - len(t) + j for t in target_ids for j in range(len(t))]
        tok_idx = [tok for t in target_ids for tok in t]
        r = torch.tensor(row_idx, device=device)
        c = torch.tensor(col_idx, device=device)
        tok = torch.tensor(tok_idx, device=device)
        spans = []
        for p, t in zip(prompt_ids, target_ids):
            start = width - len(p) - (len(t) - 1)
            spans.append(slice(start, start + len(p)))
        with torch.no_grad():
            clean = self.embed(ids)
            if scales is not None:
                factor = torch.ones((len(seqs), width, 1), device=device, dtype=clean.dtype)
                for b, (span, alpha) in enumerate(zip(spans, scales)):
                    factor[b, span] = alpha
                embeds = clean * factor
            else:
                embeds = clean
        embeds.requires_grad_(True)
        capture = attention_capture.capture_last_rows if capture_attention else (lambda _last, trim=None: contextlib.nullcontext([]))
        with torch.enable_grad(), trim_last_layer(self.decoder, last) as trimmed, capture(last, trim=trimmed) as rows:
            hidden = self.decoder(inputs_embeds=embeds, attention_mask=mask, position_ids=pos, use_cache=False).last_hidden_state
            logits = project_vocab(self.lm_head, hidden[r, c]).float()
            token_logp = torch.log_softmax(logits, dim=-1).gather(1, tok[:, None]).squeeze(1)
            seq_logp = torch.zeros(len(seqs), device=device, dtype=token_logp.dtype).index_add(0, r, token_logp)
            if config.target == "log_probability":
                objective = seq_logp
            elif config.target == "probability":
                objective = seq_logp.exp()
            else:
                objective = torch.zeros(len(seqs), device=device, dtype=logits.dtype).index_add(0, r, logits.gather(1, tok[:, None]).squeeze(1))
            (grad,) = torch.autograd.grad(objective.sum(), embeds)
        return grad.float(), clean.detach().float(), spans, rows, seq_logp.detach().cpu().tolist()  # reduce in float32 whatever the model dtype

    def _batch(self, prompt_ids: list[list[int]], target_ids: list[tuple[int, ...]], config: AttributionConfig):
        grad, embeds, spans, rows, seq_lp = self._forward_backward(prompt_ids, target_ids, config, capture_attention=True)
        saliency = reduce(grad, config.reduction).cpu().numpy()
        ixg = reduce(grad * embeds, config.reduction).cpu().numpy()
        last = max(len(t) for t in target_ids)
        layers = rows[-1:] if config.attention == "last_layer" else rows
        att = torch.stack(layers).mean(dim=(0, 2))  # (B, last, K): mean over layers and heads
        answer = torch.tensor([last - len(t) for t in target_ids], device=att.device)
        att = att[torch.arange(len(prompt_ids), device=att.device), answer].float().cpu().numpy()  # (B, K)
        results = []
        for b, span in enumerate(spans):
            results.append((
                att[b, span].astype(np.float64),
                saliency[b, span].astype(np.float64),
                ixg[b, span].astype(np.float64),
                float(seq_lp[b]),
            ))
        return results
