"""The numbers of Table 2 (alignment) and Table 4 (faithfulness) of Fayyaz et al. for one run.

* **Table 2** scores the rationales extracted for the TRUE label (purpose ``alignment``)
  against the human rationale stored with each example. Its values are keyed by registry
  metric name (``AlignmentRow.metrics``; the columns come from
  ``faithscope.metrics.table_metrics(2)``): micro F1 (pooled, the paper's default and the
  column Table 2 leads with, see SPEC) with its 95% bootstrap CI over examples; macro F1 per
  example and ERASER's macro F1 per (example, field) instance, both leaving out instances with
  neither a human rationale nor a prediction; ERASER's IOU-F1 (macro, per field; micro in the
  CSV); AUPRC for methods that store per-word scores (``None`` with a reason otherwise);
  pooled P and R; N. The RANDOM row averages every value over all stored draws
  (``positions`` is draw 0, ``draws`` the others); its CI resamples examples and averages over
  draws inside each resample. Prompting rows also carry the parse-failure rate (replies that
  could not be parsed; they count as empty rationales, precision 0) and the share of reply
  words that are not in the input.
* **Table 4** masks the rationales extracted for the PREDICTED label (purpose
  ``faithfulness``): flip rate with its CI, the mean change of the originally predicted
  label's log-probability (masked - original, negative = the words mattered) with its CI,
  ERASER comprehensiveness and sufficiency (the rationale kept alone) and, for scored methods,
  AOPC comprehensiveness and sufficiency (bins 1/5/10/20/50 % of the visible words ranked by
  the stored word scores; mean over examples and bins), each with its CI over examples; the
  mean number of masked words, the rationale words outside the visible window (truncation;
  excluded, counted) and, for prompting rows, the parse-failure rate.
* **Truncation**: words cut from an example's prompt (``RunData.hidden``) are outside what the
  model saw. Table 2 drops them from the human rationale and from every method's rationale
  (the count is in :meth:`RunData.human_outside`); Table 4's masking never touched them.
* **Server backends**: N is every example. On a server backend an example whose ORIGINAL reply
  named no label is counted in N as not flipped (nothing to flip), one whose MASKED reply named
  no label counts as flipped (the original label is no longer predicted), and an example
  without probabilities on either side (a label named only in text) is left out of Δ log p and
  comprehensiveness; the three counts are in the row (see :func:`faithfulness_row`).

All metrics come from :mod:`faithscope.metrics`; this module only gathers stored rows.
Rates are fractions here; the renderers show percentages.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from ..metrics import (AOPC_BINS, PRF, aopc_per_example, bootstrap_ci, bootstrap_ci_indices, comprehensiveness, field_auprcs, field_instances,
                       flip_rate, iou_scores, logprob_change, macro_prf, mean_auprc, micro_prf, pool_prf, prf, sufficiency)
from ..runs.perturb import AOPC_KEPT, AOPC_REMOVED, KEPT
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
    """One Table 2 row (fractions; ``parse_fail``/``not_found`` are ``None`` off prompting).

    ``metrics`` maps registry metric names (``faithscope.metrics.METRICS``) to values, ``None``
    where a metric does not apply to the method (``reasons`` then says why); ``cis`` holds the
    95% bootstrap CIs of the metrics that have one.
    """

    method: str
    n: int
    metrics: dict[str, float | None]
    cis: dict[str, tuple[float, float]] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)
    parse_fail: float | None = None
    not_found: float | None = None
    draws: int = 1
    empty_gold: int = 0
    skipped: int = 0
    """TOP-VAR examples with k = 0 that were not asked (left out of N and of every figure)."""

    @property
    def name(self) -> str:
        return display(self.method)[0]

    @property
    def selection(self) -> str:
        return display(self.method)[1]

    def _get(self, metric: str) -> float:
        v = self.metrics.get(metric)
        return math.nan if v is None else v

    @property
    def micro_f1(self) -> float:
        return self._get("alignment_f1_micro")

    @property
    def micro_ci(self) -> tuple[float, float]:
        return self.cis.get("alignment_f1_micro", (math.nan, math.nan))

    @property
    def macro_f1(self) -> float:
        """Per-example macro F1."""
        return self._get("alignment_f1_macro")

    @property
    def macro_f1_field(self) -> float:
        """ERASER's per-(example, field) macro F1."""
        return self._get("alignment_f1_macro_field")

    @property
    def precision(self) -> float:
        return self._get("precision")

    @property
    def recall(self) -> float:
        return self._get("recall")


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
    sufficiency: float = math.nan
    sufficiency_ci: tuple[float, float] = (math.nan, math.nan)
    aopc_comprehensiveness: float | None = math.nan
    aopc_comprehensiveness_ci: tuple[float, float] | None = (math.nan, math.nan)
    aopc_sufficiency: float | None = math.nan
    aopc_sufficiency_ci: tuple[float, float] | None = (math.nan, math.nan)
    """The AOPC values are ``None`` (absent, not 0 and not NaN) when the run did not score AOPC
    bins (``--no-aopc``); NaN when it did but the method has none (unscored methods)."""
    n_aopc: int = 0
    """Examples with every AOPC bin scored (0 for unscored methods and ``--no-aopc`` runs)."""
    outside_window: int = 0
    """Rationale words outside the visible window (truncation), excluded from masking."""
    orig_unparseable: int = 0
    """Examples whose original reply named no label: in N, never flipped."""
    masked_unparseable: int = 0
    """Examples whose masked reply named no label: counted as flipped."""
    no_probs: int = 0
    """Examples without probabilities (server named a label only in text): not in Δ log p / compr."""

    @property
    def cis(self) -> dict[str, tuple[float, float]]:
        """95% CIs by registry metric name (Table 4's columns are built from the registry)."""
        return {"flip_rate": self.flip_ci, "logprob_change": self.logprob_ci, "comprehensiveness": self.comprehensiveness_ci,
                "sufficiency": self.sufficiency_ci, "aopc_comprehensiveness": self.aopc_comprehensiveness_ci,
                "aopc_sufficiency": self.aopc_sufficiency_ci}
    skipped: int = 0
    """TOP-VAR examples with k = 0 that were not asked (left out of N and of every figure)."""

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


NO_SCORES = "no per-word scores (only attribution methods rank every word)"
"""Why AUPRC is blank for a method."""


def _field_starts(example: dict) -> list[int]:
    """Global position of each stored field's first word (``Example.field_offsets()``)."""
    starts, pos = [], 0
    for words in (example.get("fields") or {}).values():
        starts.append(pos)
        pos += len(words)
    return starts or [0]


def _draw_values(preds: list[tuple[int, ...]], gold: list[list[int]], starts: list[list[int]]) -> dict[str, float]:
    """The position-set metrics of one draw of a method's rationales over the examples."""
    micro = micro_prf(zip(preds, gold))
    inst = [pair for p, g, st in zip(preds, gold, starts) for pair in field_instances(p, g, st)]
    iou_micro, iou_macro = iou_scores(inst)
    return {"alignment_f1_micro": micro.f1, "alignment_f1_macro": macro_prf(zip(preds, gold)).f1,
            "alignment_f1_macro_field": macro_prf(inst).f1, "iou_f1": iou_macro.f1, "iou_f1_micro": iou_micro.f1,
            "precision": micro.p, "recall": micro.r}


def alignment_row(method: str, rats: dict[str, Rationale], human: dict[str, list[int]], n_resamples: int = 1000, seed: int = 0,
                  starts: dict[str, list[int]] | None = None) -> AlignmentRow:
    """Score one method's alignment rationales against the human rationales (by example id).

    ``starts`` gives each example's field starts (ERASER's per-field instances, spans that
    never cross a field); without it every example is one field.
    """
    skipped = sum(1 for eid in human if eid in rats and rats[eid].skipped)
    ids = [eid for eid in human if eid in rats and not rats[eid].skipped]
    gold = [human[eid] for eid in ids]
    chosen = [rats[eid] for eid in ids]
    field_starts = [list((starts or {}).get(eid, [0])) for eid in ids]
    fail, missing = prompting_quality(chosen)
    empty_gold = sum(1 for g in gold if not g)
    n_draws = min((1 + len(r.draws) for r in chosen), default=1) if method == "random" else 1
    per_draw = [[(r.positions if d == 0 else r.draws[d - 1]) for r in chosen] for d in range(n_draws)]
    values = [_draw_values(preds, gold, field_starts) for preds in per_draw]
    metrics: dict[str, float | None] = {k: (float(np.mean([v[k] for v in values])) if ids else math.nan) for k in values[0]}
    reasons: dict[str, str] = {}
    if chosen and all(r.scores is not None for r in chosen):
        metrics["auprc"] = mean_auprc(a for r, g, st in zip(chosen, gold, field_starts) for a in field_auprcs(r.scores, g, st))
    else:
        metrics["auprc"] = None
        reasons["auprc"] = NO_SCORES if not any(r.scores is not None for r in chosen) else "per-word scores missing for some examples"
    counts = np.stack([_counts([prf(p, g) for p, g in zip(preds, gold)]) for preds in per_draw])  # (draws, n, 3)

    def stat(idx: np.ndarray) -> float:
        sums = counts[:, idx, :].sum(axis=1)
        return float(np.mean([_pooled_f1(*row) for row in sums]))

    ci = bootstrap_ci_indices(len(ids), stat, n_resamples=n_resamples, seed=seed)
    return AlignmentRow(method=method, n=len(ids), metrics=metrics, cis={"alignment_f1_micro": ci}, reasons=reasons,
                        parse_fail=fail, not_found=missing, draws=n_draws, empty_gold=empty_gold, skipped=skipped)


def alignment_rows(data: RunData, n_resamples: int = 1000, seed: int = 0) -> list[AlignmentRow]:
    """Table 2 of one run: every method with alignment rationales, in the paper's order."""
    human = data.visible_human()
    starts = {e["id"]: _field_starts(e) for e in data.examples}
    methods = ordered(data.methods("alignment"), ORDER_T2)
    return [alignment_row(m, visible_rationales(data.rationales[(m, "alignment")], data.hidden), human, n_resamples, seed, starts)
            for m in methods]


def visible_rationales(rats: dict[str, Rationale], hidden: dict[str, list[int]]) -> dict[str, Rationale]:
    """The rationales without the positions truncation cut (words the model never saw)."""
    out = {}
    for eid, r in rats.items():
        cut = set(hidden.get(eid, ()))
        out[eid] = r if not cut else replace(r, positions=tuple(g for g in r.positions if g not in cut),
                                             draws=tuple(tuple(g for g in d if g not in cut) for d in r.draws))
    return out


def _finite_pairs(orig: dict[str, float], other: dict[str, float]) -> tuple[list[float], list[float]]:
    ids = [eid for eid in other if eid in orig and math.isfinite(orig[eid]) and math.isfinite(other[eid])]
    return [orig[eid] for eid in ids], [other[eid] for eid in ids]


def _aopc_values(orig: dict[str, float], perturbed: list[dict], kind: str) -> np.ndarray:
    """Per example, the mean over the AOPC bins of ``p(y|x) - p(y|x_bin)`` (examples with
    every bin scored and finite)."""
    by_ex: dict[str, dict[float, float]] = {}
    for r in perturbed:
        if r["kind"] == kind:
            by_ex.setdefault(r["example_id"], {})[float(r["fraction"])] = float(r["masked_prob"])
    bins = sorted(AOPC_BINS)
    ids = [eid for eid, b in by_ex.items() if eid in orig and math.isfinite(orig[eid]) and sorted(b) == bins
           and all(math.isfinite(v) for v in b.values())]
    if not ids:
        return np.empty(0)
    return aopc_per_example([orig[eid] for eid in ids], {b: [by_ex[eid][b] for eid in ids] for b in bins})


def faithfulness_row(method: str, rows: list[dict], rats: dict[str, Rationale] | None = None, n_resamples: int = 1000, seed: int = 0,
                     perturbed: list[dict] | None = None, aopc: bool = True) -> FaithfulnessRow:
    """Aggregate one method's masked rows (one per example) and its ``perturbed`` rows
    (sufficiency, AOPC bins) into a Table 4 row; rows of skipped rationales (TOP-VAR, k = 0)
    are left out and counted. ``aopc=False`` (a ``--no-aopc`` run): the AOPC values are
    ``None``, absent rather than computed from no bins."""
    n_rows = len(rows)
    rows = [r for r in rows if not (rats and r["example_id"] in rats and rats[r["example_id"]].skipped)]
    flips = np.array([float(r["flipped"]) for r in rows])
    flippable = [r for r in rows if r["orig_predicted"]]
    # over ALL rows: an original reply that named no label counts in N as not flipped
    rate = flip_rate([r["orig_predicted"] for r in flippable], [r["predicted"] for r in flippable]) * len(flippable) / len(rows) if flippable else (0.0 if rows else math.nan)
    scored = [r for r in rows if r["orig_prob"] is not None and r["masked_prob"] is not None]
    lp = logprob_change([r["orig_logprob"] for r in scored], [r["masked_logprob"] for r in scored])
    comp = comprehensiveness([r["orig_prob"] for r in scored], [r["masked_prob"] for r in scored])
    used = [rats[r["example_id"]] for r in rows if rats and r["example_id"] in rats]
    fail, _ = prompting_quality(used)

    def mean(v: np.ndarray) -> float:
        return float(v.mean()) if v.size else math.nan

    orig = {r["example_id"]: float(r["orig_prob"]) for r in rows if r["orig_prob"] is not None}
    perturbed = [r for r in (perturbed or []) if r["masked_prob"] is not None]
    suff = sufficiency(*_finite_pairs(orig, {r["example_id"]: float(r["masked_prob"]) for r in perturbed if r["kind"] == KEPT}))
    aopc_c, aopc_s = _aopc_values(orig, perturbed, AOPC_REMOVED), _aopc_values(orig, perturbed, AOPC_KEPT)

    def ci(v: np.ndarray) -> tuple[float, float]:
        return bootstrap_ci(v, n_resamples=n_resamples, seed=seed)

    absent = {} if aopc else {"aopc_comprehensiveness": None, "aopc_comprehensiveness_ci": None, "aopc_sufficiency": None,
                              "aopc_sufficiency_ci": None}
    row = FaithfulnessRow(method=method, n=len(rows), flip_rate=rate, flip_ci=ci(flips),
                           logprob_change=mean(lp), logprob_ci=ci(lp),
                           comprehensiveness=mean(comp), comprehensiveness_ci=ci(comp),
                           mean_masked=mean(np.array([float(r["n_masked"]) for r in rows])), parse_fail=fail,
                           sufficiency=mean(suff), sufficiency_ci=ci(suff),
                           aopc_comprehensiveness=mean(aopc_c), aopc_comprehensiveness_ci=ci(aopc_c),
                           aopc_sufficiency=mean(aopc_s), aopc_sufficiency_ci=ci(aopc_s), n_aopc=int(min(aopc_c.size, aopc_s.size)),
                           outside_window=int(sum(int(r.get("n_outside") or 0) for r in rows)),
                           orig_unparseable=len(rows) - len(flippable), masked_unparseable=sum(1 for r in flippable if not r["predicted"]),
                           no_probs=len(rows) - len(scored), skipped=n_rows - len(rows))
    return replace(row, **absent) if absent else row


def faithfulness_rows(data: RunData, strategy: str | None = None, n_resamples: int = 1000, seed: int = 0) -> list[FaithfulnessRow]:
    """Table 4 of one run for its masking strategy: ALL, HUMAN, RANDOM, then the methods."""
    by_method: dict[str, list[dict]] = {}
    for r in data.masked_rows(strategy):
        by_method.setdefault(r["method"], []).append(r)
    others: dict[str, list[dict]] = {}
    for r in data.perturbed_rows(strategy):
        others.setdefault(r["method"], []).append(r)
    aopc = run_scored_aopc(data)
    return [faithfulness_row(m, by_method[m], data.rationales.get((m, "faithfulness")), n_resamples, seed, others.get(m, []), aopc)
            for m in ordered(set(by_method), ORDER_T4)]


def run_scored_aopc(data: RunData) -> bool:
    """Whether the run scored AOPC bins (``--aopc``, the default; runs stored before the
    option existed always did)."""
    return bool(data.config.get("aopc", True))


__all__ = ["NO_SCORES", "AlignmentRow", "FaithfulnessRow", "alignment_row", "alignment_rows", "faithfulness_row", "faithfulness_rows",
           "display", "ordered", "prompting_quality", "run_scored_aopc", "visible_rationales"]
