"""The numbers of Table 2 (alignment) and Table 4 (faithfulness) of Fayyaz et al. for one run.

* **Table 2** scores the rationales extracted for the TRUE label (purpose ``alignment``)
  against the human rationale stored with each example: micro F1 (pooled, the paper's default,
  see SPEC) with its 95% bootstrap CI over examples, macro F1, pooled P and R and N. The
  RANDOM row averages micro/macro F1, P and R over all stored draws (``positions`` is draw 0,
  ``draws`` the others); its CI resamples examples and averages over draws inside each
  resample. Prompting rows also carry the parse-failure rate (replies that could not be
  parsed; they count as empty rationales, precision 0) and the share of reply words that are
  not in the input.
* **Table 4** masks the rationales extracted for the PREDICTED label (purpose
  ``faithfulness``): flip rate with its CI, the mean change of the originally predicted
  label's log-probability (masked - original, negative = the words mattered) with its CI,
  ERASER comprehensiveness, the mean number of masked words and, for prompting rows, the
  parse-failure rate.

All metrics come from :mod:`faithscope.metrics`; this module only gathers stored rows.
Rates are fractions here; the renderers show percentages.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..metrics import PRF, bootstrap_ci, bootstrap_ci_indices, comprehensiveness, flip_rate, logprob_change, macro_prf, micro_prf, pool_prf, prf
from ..types import Rationale
from .rundata import PROMPTING, RunData

DISPLAY = {"prompt-unbound": ("Prompting", "UNBOUND"), "prompt-topk": ("Prompting", "TOP-VAR"),
           "attention": ("Attention", "TOP-VAR"), "saliency": ("Saliency", "TOP-VAR"),
           "input_x_gradient": ("Input×Gradient", "TOP-VAR"), "integrated_gradients": ("Integrated Gradients", "TOP-VAR"),
           "occlusion": ("Occlusion", "TOP-VAR"), "random": ("Random", "TOP-VAR"), "human": ("Human", "HUMAN"), "all-words": ("All", "ALL"),
           "all": ("All", "ALL")}  # "all": the ALL-words baseline's name in stores written before it was renamed
"""Method name -> (row label, selection) as in the paper's tables."""

ORDER_T2 = ("prompt-unbound", "prompt-topk", "attention", "saliency", "input_x_gradient", "integrated_gradients", "occlusion", "random", "human", "all-words")
ORDER_T4 = ("all-words", "human", "random", "prompt-unbound", "prompt-topk", "attention", "saliency", "input_x_gradient", "integrated_gradients", "occlusion")


def display(method: str) -> tuple[str, str]:
    """``(row label, selection)`` of a method; unknown methods select TOP-VAR by default."""
    return DISPLAY.get(method, (method, "TOP-VAR"))


def ordered(methods: list[str] | set[str], order: tuple[str, ...]) -> list[str]:
    """Methods in table order (unknown ones after the known, alphabetically)."""
    known = [m for m in order if m in methods]
    return known + sorted(set(methods) - set(known))


@dataclass(frozen=True)
class AlignmentRow:
    """One Table 2 row (fractions; ``parse_fail``/``not_found`` are ``None`` off prompting)."""

    method: str
    n: int
    micro_f1: float
    micro_ci: tuple[float, float]
    macro_f1: float
    precision: float
    recall: float
    parse_fail: float | None = None
    not_found: float | None = None
    draws: int = 1
    empty_gold: int = 0

    @property
    def name(self) -> str:
        return display(self.method)[0]

    @property
    def selection(self) -> str:
        return display(self.method)[1]


@dataclass(frozen=True)
class FaithfulnessRow:
    """One Table 4 row: flip rate, log-prob change and comprehensiveness with CIs."""

    method: str
    n: int
    flip_rate: float
    flip_ci: tuple[float, float]
    logprob_change: float
    logprob_ci: tuple[float, float]
    comprehensiveness: float
    comprehensiveness_ci: tuple[float, float]
    mean_masked: float
    parse_fail: float | None = None

    @property
    def name(self) -> str:
        return display(self.method)[0]

    @property
    def selection(self) -> str:
        return display(self.method)[1]


def _pooled_f1(tp: float, n_pred: float, n_gold: float) -> float:
    """Micro F1 from summed counts, through the metrics module's pooling."""
    return pool_prf([PRF(math.nan, math.nan, math.nan, int(tp), int(n_pred), int(n_gold))]).f1


def prompting_quality(rats: list[Rationale]) -> tuple[float | None, float | None]:
    """(share of replies that could not be parsed, share of reply words not in the input)."""
    if not rats or rats[0].method not in PROMPTING:
        return None, None
    fail = sum(not r.parsed for r in rats) / len(rats)
    words = sum(r.n_reply_words for r in rats)
    missing = sum(len(r.not_found) for r in rats)
    return fail, (missing / words if words else math.nan)


def _counts(scores: list[PRF]) -> np.ndarray:
    return np.array([[s.tp, s.n_pred, s.n_gold] for s in scores], dtype=float).reshape(-1, 3)


def alignment_row(method: str, rats: dict[str, Rationale], human: dict[str, list[int]], n_resamples: int = 1000, seed: int = 0) -> AlignmentRow:
    """Score one method's alignment rationales against the human rationales (by example id)."""
    ids = [eid for eid in human if eid in rats]
    gold = [human[eid] for eid in ids]
    chosen = [rats[eid] for eid in ids]
    fail, missing = prompting_quality(chosen)
    empty_gold = sum(1 for g in gold if not g)
    n_draws = min((1 + len(r.draws) for r in chosen), default=1) if method == "random" else 1
    per_draw = [[(r.positions if d == 0 else r.draws[d - 1]) for r in chosen] for d in range(n_draws)]
    micro = [micro_prf(zip(preds, gold)) for preds in per_draw]
    macro = [macro_prf(zip(preds, gold)).f1 for preds in per_draw]
    counts = np.stack([_counts([prf(p, g) for p, g in zip(preds, gold)]) for preds in per_draw])  # (draws, n, 3)

    def stat(idx: np.ndarray) -> float:
        sums = counts[:, idx, :].sum(axis=1)
        return float(np.mean([_pooled_f1(*row) for row in sums]))

    ci = bootstrap_ci_indices(len(ids), stat, n_resamples=n_resamples, seed=seed)
    return AlignmentRow(method=method, n=len(ids), micro_f1=float(np.mean([m.f1 for m in micro])) if ids else math.nan, micro_ci=ci,
                        macro_f1=float(np.mean(macro)) if ids else math.nan,
                        precision=float(np.mean([m.p for m in micro])) if ids else math.nan,
                        recall=float(np.mean([m.r for m in micro])) if ids else math.nan,
                        parse_fail=fail, not_found=missing, draws=n_draws, empty_gold=empty_gold)


def alignment_rows(data: RunData, n_resamples: int = 1000, seed: int = 0) -> list[AlignmentRow]:
    """Table 2 of one run: every method with alignment rationales, in the paper's order."""
    human = {e["id"]: list(e["human"]) for e in data.examples}
    methods = ordered(data.methods("alignment"), ORDER_T2)
    return [alignment_row(m, data.rationales[(m, "alignment")], human, n_resamples, seed) for m in methods]


def faithfulness_row(method: str, rows: list[dict], rats: dict[str, Rationale] | None = None, n_resamples: int = 1000, seed: int = 0) -> FaithfulnessRow:
    """Aggregate one method's masked rows (one per example) into a Table 4 row."""
    flips = np.array([float(r["flipped"]) for r in rows])
    rate = flip_rate([r["orig_predicted"] for r in rows], [r["predicted"] for r in rows])
    lp = logprob_change([r["orig_logprob"] for r in rows], [r["masked_logprob"] for r in rows])
    comp = comprehensiveness([r["orig_prob"] for r in rows], [r["masked_prob"] for r in rows])
    # labels a server only named in text (no log-probability) give infinite/undefined changes
    lp, comp = lp[np.isfinite(lp)], comp[np.isfinite(comp)]
    used = [rats[r["example_id"]] for r in rows if rats and r["example_id"] in rats]
    fail, _ = prompting_quality(used)

    def mean(v: np.ndarray) -> float:
        return float(v.mean()) if v.size else math.nan

    return FaithfulnessRow(method=method, n=len(rows), flip_rate=rate, flip_ci=bootstrap_ci(flips, n_resamples=n_resamples, seed=seed),
                           logprob_change=mean(lp), logprob_ci=bootstrap_ci(lp, n_resamples=n_resamples, seed=seed),
                           comprehensiveness=mean(comp), comprehensiveness_ci=bootstrap_ci(comp, n_resamples=n_resamples, seed=seed),
                           mean_masked=mean(np.array([float(r["n_masked"]) for r in rows])), parse_fail=fail)


def faithfulness_rows(data: RunData, strategy: str | None = None, n_resamples: int = 1000, seed: int = 0) -> list[FaithfulnessRow]:
    """Table 4 of one run for its masking strategy: ALL, HUMAN, RANDOM, then the methods."""
    by_method: dict[str, list[dict]] = {}
    for r in data.masked_rows(strategy):
        by_method.setdefault(r["method"], []).append(r)
    return [faithfulness_row(m, by_method[m], data.rationales.get((m, "faithfulness")), n_resamples, seed)
            for m in ordered(set(by_method), ORDER_T4)]


__all__ = ["AlignmentRow", "FaithfulnessRow", "alignment_row", "alignment_rows", "faithfulness_row", "faithfulness_rows",
           "display", "ordered", "prompting_quality"]
