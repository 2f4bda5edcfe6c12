"""Table 4's ERASER sufficiency and AOPC from stored rows (issue 11 item 12): a hand-computed
case, and ERASER's own AOPC averaging (rationale_benchmark/metrics.py, ``_instances_aopc``)."""

from __future__ import annotations

import numpy as np
import pytest

from faithscope.reports.tables import faithfulness_row

BINS = (0.01, 0.05, 0.10, 0.20, 0.50)
ORIG = {"a": 0.9, "b": 0.6}
KEPT = {"a": 0.7, "b": 0.6}
REMOVED_BINS = {"a": (0.8, 0.7, 0.6, 0.5, 0.4), "b": (0.6, 0.6, 0.5, 0.3, 0.1)}
KEPT_BINS = {"a": (0.9,) * 5, "b": (0.3,) * 5}


def masked_row(eid: str, outside: int = 0) -> dict:
    return {"example_id": eid, "method": "saliency", "strategy": "delete", "n_masked": 2, "orig_predicted": "x", "predicted": "x", "flipped": 0,
            "orig_logprob": float(np.log(ORIG[eid])), "masked_logprob": float(np.log(0.5)), "orig_prob": ORIG[eid], "masked_prob": 0.5,
            "n_outside": outside}


def perturbed_rows(extra_missing_bin: bool = False) -> list[dict]:
    rows = []
    for eid in ORIG:
        rows.append({"example_id": eid, "kind": "kept", "fraction": 1.0, "masked_prob": KEPT[eid]})
        for b, pr, pk in zip(BINS, REMOVED_BINS[eid], KEPT_BINS[eid]):
            rows.append({"example_id": eid, "kind": "aopc_removed", "fraction": b, "masked_prob": pr})
            rows.append({"example_id": eid, "kind": "aopc_kept", "fraction": b, "masked_prob": pk})
    if extra_missing_bin:  # an example with only some bins scored is left out of AOPC
        rows.append({"example_id": "c", "kind": "aopc_removed", "fraction": 0.01, "masked_prob": 0.0})
    return [{"method": "saliency", "strategy": "delete", "n_words": 1, "prompt_sha": "-", "predicted": "x", "masked_logprob": 0.0, **r} for r in rows]


def eraser_instances_aopc(instances: list[dict], thresholds: list[float], key: str) -> float:
    """ERASER's averaging, transcribed from rationale_benchmark/metrics.py ``_instances_aopc``."""
    dataset_scores = []
    for inst in instances:
        kls = inst["classification"]
        beta_0 = inst["classification_scores"][kls]
        instance_scores = []
        for score in filter(lambda x: x["threshold"] in thresholds, sorted(inst["thresholded_scores"], key=lambda x: x["threshold"])):
            instance_scores.append(beta_0 - score[key][kls])
        assert len(instance_scores) == len(thresholds)
        dataset_scores.append(instance_scores)
    return float(np.average(np.array(dataset_scores)))


def test_sufficiency_and_aopc_hand_computed():
    row = faithfulness_row("saliency", [masked_row("a", 3), masked_row("b")], perturbed=perturbed_rows(), n_resamples=200)
    assert row.sufficiency == pytest.approx((0.2 + 0.0) / 2)
    # removed: a drops 0.1..0.5 (mean 0.3), b drops 0, 0, 0.1, 0.3, 0.5 (mean 0.18)
    assert row.aopc_comprehensiveness == pytest.approx((0.3 + 0.18) / 2)
    assert row.aopc_sufficiency == pytest.approx((0.0 + 0.3) / 2)
    assert row.n_aopc == 2 and row.outside_window == 3
    lo, hi = row.aopc_comprehensiveness_ci
    assert 0.18 - 1e-9 <= lo <= hi <= 0.3 + 1e-9  # resamples of two per-example means
    lo, hi = row.sufficiency_ci
    assert 0.0 - 1e-9 <= lo <= hi <= 0.2 + 1e-9


def test_aopc_equals_eraser_averaging_and_skips_incomplete_examples():
    instances = [{"classification": "x", "classification_scores": {"x": ORIG[eid]},
                  "thresholded_scores": [{"threshold": b, "comprehensiveness_classification_scores": {"x": pr},
                                          "sufficiency_classification_scores": {"x": pk}}
                                         for b, pr, pk in zip(BINS, REMOVED_BINS[eid], KEPT_BINS[eid])]} for eid in ORIG]
    row = faithfulness_row("saliency", [masked_row("a"), masked_row("b"), {**masked_row("a"), "example_id": "c"}],
                           perturbed=perturbed_rows(extra_missing_bin=True), n_resamples=50)
    assert row.aopc_comprehensiveness == pytest.approx(eraser_instances_aopc(instances, list(BINS), "comprehensiveness_classification_scores"))
    assert row.aopc_sufficiency == pytest.approx(eraser_instances_aopc(instances, list(BINS), "sufficiency_classification_scores"))
    assert row.n_aopc == 2


def test_unscored_method_has_sufficiency_but_no_aopc():
    kept_only = [r for r in perturbed_rows() if r["kind"] == "kept"]
    row = faithfulness_row("human", [masked_row("a"), masked_row("b")], perturbed=kept_only, n_resamples=50)
    assert row.sufficiency == pytest.approx(0.1)
    assert np.isnan(row.aopc_comprehensiveness) and np.isnan(row.aopc_sufficiency) and row.n_aopc == 0
