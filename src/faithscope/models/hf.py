"""Hugging Face causal LMs: batched label scoring and batched greedy generation.

Label scoring runs ONE forward over a token-budget batch of left-padded prompts and keeps the
logits of the answer position only. A label whose verbalizer spans several tokens (SmolLM2's
" entailment" = " entail" + "ment") is scored as its whole teacher-forced sequence: the rest
of its tokens run as a short continuation over the prompt's KV cache, so the prompt is never
encoded twice.

Generation batches are larger than gradient or scoring batches (``GENERATION_BUDGET_FACTOR``):
decoding keeps no activations, and each step mostly reads the weights once whatever the number
of rows, so more rows per step are nearly free.
"""

from __future__ import annotations

import inspect
import math
from typing import Any, Mapping, Sequence

import torch

from ..types import LabelScores
from .base import Backend, Budget, Stops, find_stop, per_prompt_budgets, per_prompt_stops, truncate_at_stop
from .batching import DEFAULT_MAX_BATCH_TOKENS, left_pad, plan_batches
from .loading import LoadedModel

#: A generation batch holds this many times ``max_batch_tokens`` (prompt + new tokens) and twice
#: ``max_batch_size`` rows. Measured on a 2-core CPU (SmolLM2-135M fp32, 64 e-SNLI UNBOUND
#: prompts, 64 new tokens; ``benchmarks/generation.py``): 1,024 tokens / 16 rows 62.4 s,
#: 8,192 / 32 28.0 s, identical replies, peak 0.98 -> 1.34 GiB (16,384 / 64 gained another 7%);
#: the 12 longest FEVER prompts: 44.3 s -> 39.1 s, peak 1.4 -> 2.1 GiB.
GENERATION_BUDGET_FACTOR = 8

#: ``shared_prefix=True`` encodes the prompts' longest common token prefix once when it is at
#: least this long (shorter ones are not worth a cache copy per batch).
MIN_SHARED_PREFIX = 16


def common_prefix_length(encoded: Sequence[Sequence[int]]) -> int:
    """Length of the longest common prefix of token-id sequences, leaving every sequence at
    least one token of its own (the position whose logits are read)."""
    if not encoded:
        return 0
    first, n = encoded[0], min(len(e) for e in encoded) - 1
    for e in encoded[1:]:
        i = 0
        while i < n and e[i] == first[i]:
            i += 1
        n = i
    return max(n, 0)


class HFBackend(Backend):
    """A transformers causal LM (hub id, local directory, GGUF file; optional PEFT adapter)."""

    kind = "transformers"
    supports_gradients = True
    #: ``score_labels``/``generate`` take ``shared_prefix=True`` (common prompt prefix encoded once).
    supports_shared_prefix = True

    def __init__(self, loaded: LoadedModel, *, max_batch_tokens: int = DEFAULT_MAX_BATCH_TOKENS, max_batch_size: int = 32,
                 generation_batch_tokens: int | None = None, generation_batch_size: int | None = None):
        self.loaded = loaded
        self.model = loaded.model
        self.tokenizer = loaded.tokenizer
        self.max_batch_tokens = max_batch_tokens
        self.max_batch_size = max_batch_size
        self.generation_batch_tokens = generation_batch_tokens or GENERATION_BUDGET_FACTOR * max_batch_tokens
        self.generation_batch_size = generation_batch_size or 2 * max_batch_size
        self.device = next(self.model.parameters()).device
        params = inspect.signature(self.model.forward).parameters
        self._cache_kw = "cache" if "cache" in params else "past_key_values"

    # -- Backend API -----------------------------------------------------------------
    @property
    def identity(self) -> Mapping[str, Any]:
        return self.loaded.identity

    @property
    def context_window(self) -> int:
        return self.loaded.context_window

    def count_tokens(self, text: str) -> int:
        return len(self.encode(text))

    def encode(self, text: str) -> list[int]:
        """Prompt token ids, with the special tokens the model's tokenizer adds (e.g. BOS)."""
        return list(self.tokenizer(text).input_ids)

    def verbalizer_ids(self, verbalizer: str) -> tuple[int, ...]:
        ids = tuple(self.tokenizer(verbalizer, add_special_tokens=False).input_ids)
        if not ids:
            raise ValueError(f"verbalizer {verbalizer!r} encodes to no tokens")
        return ids

    def _shared_prefix(self, encoded: list[list[int]], enabled: bool) -> tuple[int, Any]:
        """``(P, cache)``: the prompts' common token prefix run once (batch of one) when
        ``enabled`` and at least :data:`MIN_SHARED_PREFIX` tokens long, else ``(0, None)``.
        The prefix is taken on token ids, so each prompt's own tokenization is kept."""
        n = common_prefix_length(encoded) if enabled and len(encoded) > 1 else 0
        if n < MIN_SHARED_PREFIX:
            return 0, None
        ids = torch.tensor([encoded[0][:n]], device=self.device)
        out = self.model(input_ids=ids, attention_mask=torch.ones_like(ids), use_cache=True)
        return n, (out.cache if getattr(out, "cache", None) is not None else out.past_key_values)

    @staticmethod
    def _batch_cache(cache: Any, rows: int) -> Any:
        """A copy of a batch-of-one prefix cache for ``rows`` rows (a forward extends it)."""
        import copy

        c = copy.deepcopy(cache)
        c.batch_repeat_interleave(rows)
        return c

    @torch.inference_mode()
    def score_labels(self, prompts: Sequence[str], verbalizers: Mapping[str, str], *, shared_prefix: bool = False) -> list[LabelScores]:
        """Label log-probabilities; ``shared_prefix`` runs the prompts' common token prefix
        (e.g. the instruction of every counterfactual prompt) once and each batch only over
        the rest, padded between prefix and rest (masked; positions count real tokens only)."""
        labels = tuple(verbalizers)
        vids = {lab: self.verbalizer_ids(verbalizers[lab]) for lab in labels}
        encoded = [self.encode(p) for p in prompts]
        n_pre, cache = self._shared_prefix(encoded, shared_prefix)
        rest = [e[n_pre:] for e in encoded]
        out: list[LabelScores | None] = [None] * len(prompts)
        for batch in plan_batches([len(e) for e in rest], self.max_batch_tokens, self.max_batch_size):
            prefix = (n_pre, self._batch_cache(cache, len(batch))) if cache is not None else None
            logprobs = self._score_batch([rest[i] for i in batch], labels, vids, prefix)
            for row, i in enumerate(batch):
                out[i] = LabelScores(labels, tuple(float(x) for x in logprobs[row]), dict(vids))
        return out  # type: ignore[return-value]

    def _score_batch(self, seqs: list[list[int]], labels: tuple[str, ...], vids: Mapping[str, tuple[int, ...]],
                     prefix: tuple[int, Any] | None = None) -> torch.Tensor:
        ids, mask, pos = left_pad(seqs, self.tokenizer.pad_token_id)
        ids, mask, pos = ids.to(self.device), mask.to(self.device), pos.to(self.device)
        multi = [lab for lab in labels if len(vids[lab]) > 1]
        extra: dict[str, Any] = {}
        if prefix is not None:
            n_pre, cache = prefix
            mask = torch.cat([torch.ones((mask.shape[0], n_pre), dtype=mask.dtype, device=self.device), mask], dim=1)
            pos = pos + n_pre
            extra[self._cache_kw] = cache
        out = self.model(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=bool(multi) or prefix is not None,
                         logits_to_keep=1, **extra)
        first = torch.log_softmax(out.logits[:, -1].float(), dim=-1)
        scores = torch.stack([first[:, vids[lab][0]] for lab in labels], dim=1)
        if multi:
            cache = out.cache if hasattr(out, "cache") and out.cache is not None else out.past_key_values
            rest = self._continuations(cache, mask, pos, [vids[lab] for lab in multi])
            for j, lab in enumerate(multi):
                scores[:, labels.index(lab)] += rest[:, j]
        return scores.cpu()

    def _continuations(self, cache, mask: torch.Tensor, pos: torch.Tensor, label_ids: list[tuple[int, ...]]) -> torch.Tensor:
        """Sum of log P(token_t | prompt, token_<t) for t >= 1 of each multi-token label.

        The prompt cache is repeated once per label; each row feeds its label's tokens but the
        last (right-padded: later positions never influence earlier ones)."""
        batch, n_labels = mask.shape[0], len(label_ids)
        width = max(len(v) for v in label_ids) - 1
        cont = torch.zeros((n_labels, width), dtype=torch.long)
        for j, v in enumerate(label_ids):
            cont[j, : len(v) - 1] = torch.tensor(v[:-1])
        cont = cont.repeat(batch, 1).to(self.device)  # row b*n_labels + j
        cache.batch_repeat_interleave(n_labels)
        full_mask = torch.cat([mask.repeat_interleave(n_labels, 0), torch.ones_like(cont)], dim=1)
        cont_pos = (pos[:, -1:] + 1 + torch.arange(width, device=self.device)).repeat_interleave(n_labels, 0)
        out = self.model(input_ids=cont, attention_mask=full_mask, position_ids=cont_pos, use_cache=True, **{self._cache_kw: cache})
        logp = torch.log_softmax(out.logits.float(), dim=-1)
        total = torch.zeros((batch, n_labels), device=self.device)
        for j, v in enumerate(label_ids):
            rows = torch.arange(batch, device=self.device) * n_labels + j
            for t in range(1, len(v)):
                total[:, j] += logp[rows, t - 1, v[t]]
        return total.cpu()

    @torch.inference_mode()
    def generate(self, prompts: Sequence[str], max_new_tokens: Budget, stop: Stops = None, *, shared_prefix: bool = False) -> list[str]:
        """Greedy replies; prompts with different budgets share a batch: it runs to the largest
        budget and each row keeps its own first ``budget`` new tokens (greedy decoding of a row
        does not depend on how long the others go on). A batch ends early once every row has
        met EOS, its budget or one of its stop strings (checked on the decoded reply).
        ``shared_prefix``: as in :meth:`score_labels`, the common token prefix is encoded once
        and every batch starts from a copy of its cache."""
        budgets = per_prompt_budgets(max_new_tokens, len(prompts))
        stops = per_prompt_stops(stop, len(prompts))
        encoded = [self.encode(p) for p in prompts]
        n_pre, cache = self._shared_prefix(encoded, shared_prefix)
        rest = [e[n_pre:] for e in encoded]
        out: list[str] = [""] * len(prompts)
        lengths = [len(e) + b for e, b in zip(rest, budgets)]
        for batch in plan_batches(lengths, max(self.generation_batch_tokens, 1), max(self.generation_batch_size, 1)):
            ids, mask, _ = left_pad([rest[i] for i in batch], self.tokenizer.pad_token_id)
            extra: dict[str, Any] = {}
            if cache is not None:  # [prefix][padding][rest]: generate numbers positions from the mask
                ids = torch.cat([torch.tensor([encoded[batch[0]][:n_pre]] * len(batch), dtype=ids.dtype), ids], dim=1)
                mask = torch.cat([torch.ones((len(batch), n_pre), dtype=mask.dtype), mask], dim=1)
                extra[self._cache_kw] = self._batch_cache(cache, len(batch))
            width = ids.shape[1]
            if any(stops[i] for i in batch) or len({budgets[i] for i in batch}) > 1:
                from transformers import StoppingCriteriaList

                extra["stopping_criteria"] = StoppingCriteriaList([_RowStops(
                    self.tokenizer, width, [budgets[i] for i in batch], [stops[i] for i in batch])])
            gen = self.model.generate(
                input_ids=ids.to(self.device),
                attention_mask=mask.to(self.device),
                max_new_tokens=max(budgets[i] for i in batch),
                do_sample=False,
                num_beams=1,
                pad_token_id=self.tokenizer.pad_token_id,
                eos_token_id=self.loaded.stop_token_ids or None,
                use_cache=True,
                **extra,
            )
            for row, i in enumerate(batch):
                text = self.tokenizer.decode(gen[row, width:width + budgets[i]], skip_special_tokens=True)
                out[i] = truncate_at_stop(text, stops[i])
        return out


class _RowStops:
    """Stopping criterion: a row is done when it has its budget of new tokens or its decoded
    reply contains one of its stop strings (transformers then pads it until all rows are done)."""

    def __init__(self, tokenizer: Any, width: int, budgets: list[int], stops: list[tuple[str, ...]]):
        self.tokenizer, self.width, self.budgets, self.stops = tokenizer, width, budgets, stops
        self.done = [False] * len(budgets)

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor, **kwargs: Any) -> torch.Tensor:
        n_new = input_ids.shape[1] - self.width
        for row in range(len(self.done)):
            if self.done[row]:
                continue
            if n_new >= self.budgets[row]:
                self.done[row] = True
            elif self.stops[row]:
                text = self.tokenizer.decode(input_ids[row, self.width:], skip_special_tokens=True)
                self.done[row] = find_stop(text, self.stops[row]) >= 0
        return torch.tensor(self.done, dtype=torch.bool, device=input_ids.device)


def sequence_logprob(logits: torch.Tensor, targets: Sequence[int]) -> float:
    """Sum of log-probabilities of ``targets`` under per-step ``logits`` (tests and tools)."""
    lp = torch.log_softmax(logits.float(), dim=-1)
    return float(sum(lp[t, tok] for t, tok in enumerate(targets))) if len(targets) else -math.inf
