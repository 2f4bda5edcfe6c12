"""ERASER alignment metrics against values worked out by hand in the comments, against a line-by-line
port of ERASER's own scorer (``rationale_benchmark/metrics.py``) on random cases, and AUPRC against
scikit-learn."""

import math

import numpy as np
import pytest

from faithscope.metrics.alignment import (
    PRF,
    auprc,
    field_auprcs,
    field_instances,
    iou_f1,
    iou_prf,
    iou_scores,
    macro_f1,
    macro_prf,
    mean_auprc,
    micro_f1,
    micro_prf,
    pool_prf,
    prf,
    spans,
)


def test_prf_hand_computed():
    # tp = |{2,3}| = 2, P = 2/3, R = 2/4, F1 = 2PR/(P+R) = (2/3)/(7/6) = 4/7
    s = prf({1, 2, 3}, {2, 3, 4, 5})
    assert (s.tp, s.n_pred, s.n_gold) == (2, 3, 4)
    assert s.p == pytest.approx(2 / 3)
    assert s.r == pytest.approx(1 / 2)
    assert s.f1 == pytest.approx(4 / 7)


def test_prf_accepts_lists_tuples_and_numpy_ints():
    assert prf([1, 2, 2, 3], (np.int64(2), 3, 4, 5)) == prf({1, 2, 3}, {2, 3, 4, 5})


def test_empty_prediction_gives_zero_precision():
    assert prf(set(), {1, 2}) == PRF(0.0, 0.0, 0.0, 0, 0, 2)


def test_empty_truth_gives_zero_recall():
    assert prf({1, 2}, set()) == PRF(0.0, 0.0, 0.0, 0, 2, 0)


def test_both_empty_is_zero_not_nan():
    assert prf(set(), set()).f1 == 0.0


def test_disjoint_is_zero_and_identical_is_one():
    assert prf({1}, {2}).f1 == 0.0
    assert prf({4, 5}, {4, 5}) == PRF(1.0, 1.0, 1.0, 2, 2, 2)


@pytest.mark.parametrize("bad", [{-1}, {1.5}, {True}, "12", [None]])
def test_bad_positions_raise_value_error(bad):
    with pytest.raises(ValueError):
        prf(bad, {1})


# ex1: pred {0}, gold {0}          -> tp 1, P 1,   R 1, F1 1
# ex2: pred {0,1,2,3}, gold {0}    -> tp 1, P 1/4, R 1, F1 (1/2)/(5/4) = 2/5
# ex3: pred {}, gold {5,6}         -> tp 0, P 0,   R 0, F1 0
PAIRS = [({0}, {0}), ({0, 1, 2, 3}, {0}), (set(), {5, 6})]


def test_micro_and_macro_differ_two_examples():
    two = PAIRS[:2]
    assert macro_f1(two) == pytest.approx((1 + 2 / 5) / 2)  # 0.7
    # pooled: tp 2, |pred| 5, |gold| 2 -> P 2/5, R 1, F1 0.8/1.4 = 4/7
    assert micro_f1(two) == pytest.approx(4 / 7)


def test_micro_and_macro_three_examples():
    assert macro_f1(PAIRS) == pytest.approx(7 / 15)  # (1 + 2/5 + 0) / 3
    m = micro_prf(PAIRS)  # tp 2, |pred| 5, |gold| 4 -> P 2/5, R 1/2, F1 0.4/0.9 = 4/9
    assert (m.tp, m.n_pred, m.n_gold) == (2, 5, 4)
    assert (m.p, m.r) == (pytest.approx(2 / 5), pytest.approx(1 / 2))
    assert m.f1 == pytest.approx(4 / 9)
    assert micro_f1(iter(PAIRS)) == pytest.approx(4 / 9)  # generators work too


def test_macro_prf_averages_p_and_r_but_not_f1_from_them():
    m = macro_prf(PAIRS)
    assert m.p == pytest.approx((1 + 1 / 4 + 0) / 3)
    assert m.r == pytest.approx((1 + 1 + 0) / 3)
    assert m.f1 == pytest.approx(7 / 15)


def test_no_examples_is_nan():
    assert math.isnan(micro_f1([]))
    assert math.isnan(macro_f1([]))
    assert math.isnan(pool_prf([]).p)


def test_micro_pooled_zero_predictions_gives_zero():
    assert micro_prf([(set(), {1}), (set(), {2})]).p == 0.0


def test_spans_and_breaks():
    assert spans({10, 9, 7, 3, 2, 1}) == [(1, 4), (7, 8), (9, 11)]
    # a field starting at position 3 cuts the run 1-3 in two
    assert spans({1, 2, 3, 4}, breaks={3}) == [(1, 3), (3, 5)]
    assert spans(set()) == []


def test_iou_prf_hand_computed():
    gold = {2, 3, 4, 5}  # one span [2, 6)
    # [1, 4) vs [2, 6): intersection 2, union 5, IOU 0.4 < 0.5 -> miss
    assert iou_prf({1, 2, 3}, gold) == PRF(0.0, 0.0, 0.0, 0, 1, 1)
    # [2, 5): IOU 3/4 -> hit
    assert iou_prf({2, 3, 4}, gold).f1 == 1.0
    # [2, 4): IOU exactly 2/4 = 0.5 -> hit (>=); [8, 9) misses -> P 1/2, R 1, F1 2/3
    s = iou_prf({2, 3, 8}, gold)
    assert (s.tp, s.n_pred, s.n_gold) == (1, 2, 1)
    assert s.f1 == pytest.approx(2 / 3)
    assert iou_prf({2, 3, 8}, gold, threshold=0.6).tp == 0


def test_iou_prf_empty_sides_and_bad_threshold():
    assert iou_prf(set(), {1}).f1 == 0.0
    assert iou_prf({1}, set()) == PRF(0.0, 0.0, 0.0, 0, 1, 0)
    with pytest.raises(ValueError):
        iou_prf({1}, {1}, threshold=0.0)


def test_iou_f1_micro_and_macro():
    pairs = [({2, 3, 8}, {2, 3, 4, 5}), ({0}, {5})]
    # span counts: ex1 tp 1 / 2 pred / 1 gold, ex2 tp 0 / 1 / 1 -> P 1/3, R 1/2, F1 (1/3)/(5/6) = 2/5
    assert iou_f1(pairs) == pytest.approx(2 / 5)
    # macro = F1(mean P, mean R): mean P (1/2 + 0)/2 = 1/4, mean R (1 + 0)/2 = 1/2 -> F1 (1/4)/(3/4) = 1/3
    # (the mean of per-instance F1s would be (2/3 + 0)/2 = 1/3 too here; the next case tells them apart)
    assert iou_f1(pairs, average="macro") == pytest.approx(1 / 3)
    with pytest.raises(ValueError):
        iou_f1(pairs, average="weighted")


def test_iou_macro_is_f1_of_mean_p_and_mean_r_hand_computed():
    # instance a: pred spans [0,2) [5,6), gold [0,2)   -> P 1/2, R 1 (F1 2/3)
    # instance b: pred [10,11), gold [10,11) [13,15)    -> P 1,   R 1/2 (F1 2/3)
    # instance c: no pred, gold [20,21)                 -> R 0 (enters mean R only)
    # instance d: pred [30,31), no gold                 -> P 0 (enters mean P only)
    pairs = [({0, 1, 5}, {0, 1}), ({10}, {10, 13, 14}), (set(), {20}), ({30}, set())]
    micro, macro = iou_scores(pairs)
    # mean P over a, b, d = (1/2 + 1 + 0)/3 = 1/2; mean R over a, b, c = (1 + 1/2 + 0)/3 = 1/2 -> F1 1/2
    assert (macro.p, macro.r, macro.f1) == pytest.approx((0.5, 0.5, 0.5))
    # mean of per-instance F1s over a-d would be (2/3 + 2/3 + 0 + 0)/4 = 1/3: not what ERASER reports
    # micro: hits 2 of 4 predicted spans, 2 of 4 gold spans -> 1/2
    assert (micro.tp, micro.n_pred, micro.n_gold) == (2, 4, 4) and micro.f1 == pytest.approx(0.5)
    assert all(math.isnan(x.f1) for x in iou_scores([]))


def test_iou_spans_never_cross_a_field_boundary():
    # premise = positions 0-2, hypothesis = 3-5; gold {2, 3} is one span per field, not one span [2, 4)
    inst = field_instances({1, 2, 3}, {2, 3}, [0, 3])
    assert inst == [(frozenset({1, 2}), frozenset({2})), (frozenset({3}), frozenset({3}))]
    # premise: pred [1,3) vs gold [2,3): IOU 1/2 -> hit; hypothesis: exact hit -> P = R = 1 in both
    assert iou_f1(inst, average="macro") == pytest.approx(1.0)
    # without the field split the pred run [1,4) vs gold [2,4): IOU 2/3 -> 1 hit of 1 too, but the
    # gold is counted as one span instead of two
    assert iou_prf({1, 2, 3}, {2, 3}).n_gold == 1 and iou_prf({1, 2, 3}, {2, 3}, breaks={3}).n_gold == 2


def test_auprc_hand_computed():
    # ranking 0..4, hits at ranks 1, 3, 5. Curve points (R, P) from (0, 1): (1/3, 1), (1/3, 1/2),
    # (2/3, 2/3), (2/3, 1/2), (1, 3/5); trapezoids: 1/3 * (1 + 1)/2 + 1/3 * (1/2 + 2/3)/2
    # + 1/3 * (1/2 + 3/5)/2 = 1/3 + 7/36 + 11/60 = 32/45 (average precision would be 34/45)
    assert auprc([0.9, 0.8, 0.7, 0.6, 0.5], {0, 2, 4}) == pytest.approx(32 / 45)


def test_auprc_ties_enter_together():
    # thresholds 0.9 (tp0 fp1: R 0, P 0), 0.5 (tp1 fp2: R 1/2, P 1/3), 0.1 (tp2 fp2: R 1, P 1/2)
    # area = 0 + 1/2 * (0 + 1/3)/2 + 1/2 * (1/3 + 1/2)/2 = 1/12 + 5/24 = 7/24
    assert auprc([0.9, 0.5, 0.5, 0.1], {1, 3}) == pytest.approx(7 / 24)
    # one tie level holding the positive: (0,1) -> (1, 1/2): area 3/4
    assert auprc([0.5, 0.5, 0.1], {0}) == pytest.approx(0.75)


def test_auprc_perfect_and_edge_cases():
    assert auprc([0.1, 3.0, 2.0, -1.0], {1, 2}) == pytest.approx(1.0)
    assert math.isnan(auprc([0.1, 0.2], set()))
    with pytest.raises(ValueError):
        auprc([0.1, 0.2], {2})
    with pytest.raises(ValueError):
        auprc([0.1, float("nan")], {0})


def test_auprc_matches_scikit_learn_on_random_cases():
    sk = pytest.importorskip("sklearn.metrics")
    rng = np.random.default_rng(11)
    for case in range(300):
        n = int(rng.integers(1, 25))
        y = rng.random(n) < rng.uniform(0.1, 0.7)
        if not y.any():
            y[int(rng.integers(n))] = True
        # integer scores make ties common; continuous ones test the plain ranking
        scores = rng.integers(-3, 4, n).astype(float) if case % 2 else rng.normal(size=n)
        precision, recall, _ = sk.precision_recall_curve(y.astype(int), scores)
        want = sk.auc(recall, precision)
        assert auprc(scores, set(np.flatnonzero(y).tolist())) == pytest.approx(want, abs=1e-12), case


def test_field_auprcs_one_value_per_field_with_human_words():
    sk = pytest.importorskip("sklearn.metrics")
    scores = [0.9, 0.1, 0.5, 0.3, 0.8, 0.2, 0.7]
    gold = {1, 2, 6}  # fields start at 0, 3, 5: field 2 (positions 3-4) has no human word
    got = field_auprcs(scores, gold, [0, 3, 5])
    want = []
    for lo, hi in ((0, 3), (5, 7)):
        y = [int(i in gold) for i in range(lo, hi)]
        p, r, _ = sk.precision_recall_curve(y, scores[lo:hi])
        want.append(sk.auc(r, p))
    assert got == pytest.approx(want)
    assert mean_auprc(got + [math.nan]) == pytest.approx(sum(want) / 2)
    assert math.isnan(mean_auprc([]))


# --- ERASER's own scorer, ported line by line (rationale_benchmark/metrics.py) -----------------
# Instances are keyed (example, field) exactly as ERASER keys (annotation_id, docid); its token
# rationales are one-token spans, its hard predictions and truths spans.


def _eraser_f1(p, r):
    return 0 if p == 0 or r == 0 else 2 * p * r / (p + r)


def _eraser_instance_macro(truth, pred):
    """score_hard_rationale_predictions()['instance_macro']['f1'] on token sets keyed by instance."""
    ann_to_rat = {k: v for k, v in truth.items() if v}
    pred_to_rat = {k: v for k, v in pred.items() if v}
    f1s = []
    for k in set(ann_to_rat) | set(pred_to_rat):
        t, p = ann_to_rat.get(k, set()), pred_to_rat.get(k, set())
        prec = len(t & p) / len(p) if p else 0
        rec = len(t & p) / len(t) if t else 0
        f1s.append(_eraser_f1(prec, rec))
    return sum(f1s) / len(f1s)


def _runs(positions):
    out = []
    for x in sorted(positions):
        if out and out[-1][1] == x:
            out[-1] = (out[-1][0], x + 1)
        else:
            out.append((x, x + 1))
    return out


def _eraser_partial_match(truth, pred, threshold=0.5):
    """partial_match_score(...)[0]['micro'/'macro']['f1'] on span lists keyed by instance."""
    ann_to_rat = {k: set(v) for k, v in truth.items() if v}
    pred_to_rat = {k: set(v) for k, v in pred.items() if v}
    num_classifications = {k: len(v) for k, v in pred_to_rat.items()}
    num_truth = {k: len(v) for k, v in ann_to_rat.items()}
    ious = {}
    for k in set(ann_to_rat) | set(pred_to_rat):
        for p in pred_to_rat.get(k, []):
            best = 0.0
            for t in ann_to_rat.get(k, []):
                num = len(set(range(*p)) & set(range(*t)))
                denom = len(set(range(*p)) | set(range(*t)))
                iou = 0 if denom == 0 else num / denom
                best = max(best, iou)
            ious.setdefault(k, {})[p] = best
    tps = {k: sum(int(x >= threshold) for x in vs.values()) for k, vs in ious.items()}
    micro_r = sum(tps.values()) / sum(num_truth.values()) if sum(num_truth.values()) > 0 else 0
    micro_p = sum(tps.values()) / sum(num_classifications.values()) if sum(num_classifications.values()) > 0 else 0
    rs = [tps.get(k, 0.0) / n if n > 0 else 0 for k, n in num_truth.items()]
    ps = [tps.get(k, 0.0) / n if n > 0 else 0 for k, n in num_classifications.items()]
    macro_r = sum(rs) / len(rs) if rs else 0
    macro_p = sum(ps) / len(ps) if ps else 0
    return _eraser_f1(micro_r, micro_p), _eraser_f1(macro_r, macro_p)


def _random_examples(rng, n_examples):
    """Examples as (field starts, n_words, pred positions, gold positions), some fields empty-handed."""
    out = []
    for _ in range(n_examples):
        lengths = rng.integers(1, 9, size=int(rng.integers(1, 4)))
        starts = np.r_[0, np.cumsum(lengths)[:-1]].tolist()
        n = int(lengths.sum())
        pred = {int(x) for x in np.flatnonzero(rng.random(n) < rng.uniform(0, 0.6))}
        gold = {int(x) for x in np.flatnonzero(rng.random(n) < rng.uniform(0, 0.6))}
        out.append((starts, n, pred, gold))
    return out


def _keyed(examples, side):
    keyed = {}
    for i, (starts, n, pred, gold) in enumerate(examples):
        bounds = starts + [n]
        for f in range(len(starts)):
            keyed[(i, f)] = {x for x in (pred if side == "pred" else gold) if bounds[f] <= x < bounds[f + 1]}
    return keyed


def test_field_macro_and_iou_equal_erasers_scorer_on_random_cases():
    rng = np.random.default_rng(5)
    for case in range(200):
        exs = _random_examples(rng, int(rng.integers(1, 7)))
        truth, pred = _keyed(exs, "gold"), _keyed(exs, "pred")
        inst = [pair for starts, _, p, g in exs for pair in field_instances(p, g, starts)]
        if any(truth.values()) or any(pred.values()):
            assert macro_f1(inst) == pytest.approx(_eraser_instance_macro(truth, pred)), case
        want_micro, want_macro = _eraser_partial_match({k: _runs(v) for k, v in truth.items()}, {k: _runs(v) for k, v in pred.items()})
        assert iou_f1(inst, average="micro") == pytest.approx(want_micro), case
        assert iou_f1(inst, average="macro") == pytest.approx(want_macro), case
        # token micro F1 does not depend on the instance definition
        assert micro_f1(inst) == pytest.approx(micro_f1([(p, g) for _, _, p, g in exs])), case


def test_per_example_macro_equals_erasers_with_one_instance_per_example():
    rng = np.random.default_rng(6)
    for case in range(200):
        exs = _random_examples(rng, int(rng.integers(1, 7)))
        pairs = [(p, g) for _, _, p, g in exs]
        truth, pred = {i: g for i, (p, g) in enumerate(pairs)}, {i: p for i, (p, g) in enumerate(pairs)}
        if any(truth.values()) or any(pred.values()):
            assert macro_f1(pairs) == pytest.approx(_eraser_instance_macro(truth, pred)), case
        else:
            assert math.isnan(macro_f1(pairs))


def test_macro_leaves_out_instances_with_neither_rationale_nor_prediction():
    # ERASER: instance keys = instances with truth or predictions; (∅, ∅) is no instance
    assert macro_f1([({0, 1}, {0, 1}), (set(), set())]) == pytest.approx(1.0)
    # an empty prediction against a non-empty truth (or the reverse) still counts as 0
    assert macro_f1([({0, 1}, {0, 1}), (set(), {3})]) == pytest.approx(0.5)
    assert macro_f1([({0, 1}, {0, 1}), ({3}, set())]) == pytest.approx(0.5)
    assert math.isnan(macro_f1([(set(), set())]))


def test_field_macro_hand_computed_two_fields():
    # premise = positions 0-3, hypothesis = 4-6
    # ex1: pred {1, 2, 5}, gold {1, 5, 6}
    #   per example: tp 2, P 2/3, R 2/3, F1 2/3
    #   premise: pred {1,2} gold {1}: P 1/2, R 1, F1 2/3; hypothesis: pred {5} gold {5,6}: P 1, R 1/2, F1 2/3
    # ex2: pred {0}, gold {4}
    #   per example: F1 0; premise pred {0} gold {} -> F1 0; hypothesis pred {} gold {4} -> F1 0
    # ex3: pred {}, gold {6}: per example F1 0; premise has neither (left out); hypothesis F1 0
    starts = [0, 4]
    exs = [({1, 2, 5}, {1, 5, 6}), ({0}, {4}), (set(), {6})]
    inst = [pair for p, g in exs for pair in field_instances(p, g, starts)]
    assert len(inst) == 6
    assert macro_f1(exs) == pytest.approx((2 / 3 + 0 + 0) / 3)
    # five instances (ex3's premise has neither): (2/3 + 2/3 + 0 + 0 + 0) / 5 = 4/15
    assert macro_f1(inst) == pytest.approx(4 / 15)
    assert macro_prf(inst).p == pytest.approx((1 / 2 + 1 + 0 + 0 + 0) / 5)


def test_field_instances_split_at_field_starts():
    assert field_instances({0, 3, 4, 9}, {4}, [0, 3, 5]) == [
        (frozenset({0}), frozenset()), (frozenset({3, 4}), frozenset({4})), (frozenset({9}), frozenset())]
    assert field_instances({2}, set(), [0]) == [(frozenset({2}), frozenset())]
