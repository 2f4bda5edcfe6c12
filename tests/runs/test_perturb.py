"""The masking stage's plan: which words the removed, kept-only and AOPC-bin inputs drop
(issue 11 item 12), hand-computed on a tiny example with a truncated tail (issue 12 item 4)."""

from __future__ import annotations

import pytest

from faithscope.runs.perturb import AOPC_KEPT, AOPC_REMOVED, KEPT, REMOVED, bin_size, plan

# ten words; truncation hid 8 and 9; the rationale has two visible words and one hidden
SCORES = (0.1, 0.9, 0.3, 0.5, -1.0, 0.2, 0.0, 0.4, 5.0, 2.0)
VISIBLE = frozenset(range(8))


def test_removed_and_kept_use_visible_rationale_words_and_count_the_rest():
    p = plan((1, 3, 9), SCORES, VISIBLE, 10)
    assert (p.removed.kind, p.removed.drop, p.removed.n_words) == (REMOVED, frozenset({1, 3}), 2)
    kept = p.others[0]
    assert (kept.kind, kept.drop, kept.n_words) == (KEPT, frozenset({0, 2, 4, 5, 6, 7}), 2)
    assert p.outside == 1  # word 9 was cut by truncation: excluded, counted


def test_aopc_bins_rank_visible_words_by_score():
    p = plan((1, 3, 9), SCORES, VISIBLE, 10)
    bins = {(q.kind, q.fraction): q for q in p.others[1:]}
    assert sorted({f for _, f in bins}) == [0.01, 0.05, 0.10, 0.20, 0.50]  # no 0 % bin
    # visible ranking by score: 1 (0.9), 3 (0.5), 7 (0.4), 2 (0.3), 5, 0, 6, 4; 8 and 9 score
    # highest but the model never saw them. 8 visible words: bins of 1, 1, 1, 2, 4 words
    expected = {0.01: {1}, 0.05: {1}, 0.10: {1}, 0.20: {1, 3}, 0.50: {1, 3, 7, 2}}
    for b, top in expected.items():
        assert bins[(AOPC_REMOVED, b)].drop == frozenset(top)
        assert bins[(AOPC_KEPT, b)].drop == VISIBLE - frozenset(top)
        assert bins[(AOPC_REMOVED, b)].n_words == bins[(AOPC_KEPT, b)].n_words == len(top)


def test_ties_go_to_the_earlier_position_and_unscored_methods_get_sufficiency_only():
    p = plan((0,), (1.0, 1.0, 1.0, 1.0), frozenset(range(4)), 4, bins=(0.5,))
    assert p.others[1].drop == frozenset({0, 1})
    unscored = plan((2, 3), None, frozenset(range(4)), 4)
    assert [q.kind for q in unscored.others] == [KEPT]
    assert unscored.others[0].drop == frozenset({0, 1})


@pytest.mark.parametrize("fraction,n,size", [(0.01, 10, 1), (0.1, 30, 3), (0.2, 20, 4), (0.2, 21, 5), (0.5, 7, 4), (0.5, 1, 1), (0.05, 0, 0)])
def test_bin_size(fraction, n, size):
    assert bin_size(fraction, n) == size
