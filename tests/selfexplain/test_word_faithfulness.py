"""The second view: deleting the explained words vs as many random words (fixed scores)."""

from faithscope.selfexplain import load_self_consistency
from faithscope.selfexplain.checks import check_explanations
from faithscope.selfexplain.word_faithfulness import explained_positions, explained_word_faithfulness
from faithscope.tasks import load_task
from faithscope.types import Example

from .fakes import FixedBackend

SPEC = load_self_consistency(load_task("demo"))
EX = Example("e1", {"premise": ("The", "dog", "runs", "fast."), "hypothesis": ("A", "dog", "moves.")}, "entailment")


def dog_decides(prompt: str) -> str:
    """Entailment while the input still shows 'dog', else neutral."""
    return "entailment" if "dog" in prompt.split("\n\n")[0].lower() else "neutral"


def rows_for(style, reply, target=None):
    backend = FixedBackend(dog_decides)
    return check_explanations(backend, SPEC, [EX], style, "one", [reply], {"e1": "entailment"}, {"e1": target})


def test_explained_positions_per_style():
    assert explained_positions(SPEC, EX, rows_for("attribution", "dog")[0]) == (1, 5)
    assert explained_positions(SPEC, EX, rows_for("redaction", "A [REDACTED] moves.")[0]) == (5,)
    assert explained_positions(SPEC, EX, rows_for("counterfactual", "A cat sleeps.", "neutral")[0]) == (5, 6)
    assert explained_positions(SPEC, EX, rows_for("attribution", "zebra")[0]) == ()


def test_flip_and_drop_vs_random_by_hand():
    backend = FixedBackend(dog_decides, margin=2.0)
    rows = rows_for("attribution", "dog")
    (rec,) = explained_word_faithfulness(backend, SPEC, [EX], rows, seed=0, draws=50)
    assert rec["n_words"] == 2 and rec["flip"] is True
    # p(entailment) over 3 labels: e^0/(1+2e^-2) before, e^-2/(1+2e^-2)... after (neutral wins)
    import math
    p0 = 1 / (1 + 2 * math.exp(-2))
    p1 = math.exp(-2) / (1 + 2 * math.exp(-2))
    assert math.isclose(rec["prob_drop"], p0 - p1)
    # 2 random words of 7 delete both "dog"s with probability 1/21; only then does the label flip
    assert 0 <= rec["random_flip"] <= 0.2 and math.isclose(rec["random_prob_drop"], rec["random_flip"] * (p0 - p1))
    assert len(backend.score_calls) == 1


def test_unusable_rows_give_none():
    (rec,) = explained_word_faithfulness(FixedBackend(dog_decides), SPEC, [EX], rows_for("attribution", ""), draws=3)
    assert rec["flip"] is None and rec["n_words"] == 0
