"""ERASER alignment metrics against values worked out by hand in the comments."""

import math

import numpy as np
import pytest

from faithscope.metrics.alignment import (
    PRF,
    auprc,
    iou_f1,
    iou_prf,
    macro_f1,
    macro_prf,
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
    assert iou_f1(pairs, average="macro") == pytest.approx((2 / 3 + 0) / 2)
    with pytest.raises(ValueError):
        iou_f1(pairs, average="weighted")


def test_auprc_hand_computed():
    # ranking 0,1,2,3,4; hits at ranks 1,3,5: P = 1, 2/3, 3/5 at each recall step of 1/3
    # AP = (1 + 2/3 + 3/5) / 3 = 34/45
    assert auprc([0.9, 0.8, 0.7, 0.6, 0.5], {0, 2, 4}) == pytest.approx(34 / 45)


def test_auprc_ties_enter_together():
    # thresholds 0.9 (tp0 fp1), 0.5 (tp1 fp2: P 1/3, R 1/2), 0.1 (tp2 fp2: P 1/2, R 1)
    # AP = 1/2 * 1/3 + 1/2 * 1/2 = 5/12
    assert auprc([0.9, 0.5, 0.5, 0.1], {1, 3}) == pytest.approx(5 / 12)
    assert auprc([0.5, 0.5, 0.1], {0}) == pytest.approx(0.5)


def test_auprc_perfect_and_edge_cases():
    assert auprc([0.1, 3.0, 2.0, -1.0], {1, 2}) == pytest.approx(1.0)
    assert math.isnan(auprc([0.1, 0.2], set()))
    with pytest.raises(ValueError):
        auprc([0.1, 0.2], {2})
    with pytest.raises(ValueError):
        auprc([0.1, float("nan")], {0})
