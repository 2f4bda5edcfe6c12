"""The self-explanation reply parser: label, explanation and failure reasons."""

import json
from pathlib import Path

import pytest

from faithscope.explanations import match_label, parse_reply

LABELS = ("entailment", "contradiction", "neutral")
REPLIES = Path(__file__).resolve().parents[1] / "fixtures" / "replies" / "smollm2_selfexplain.jsonl"


@pytest.mark.parametrize("reply, expected", [
    (" The man is playing a guitar, which is music.", "The man is playing a guitar, which is music."),
    ("\n\nBecause dogs are animals.\nPremise: x", "Because dogs are animals."),
    (" Explanation: it rains. Label: neutral", "it rains."),
    ("  ", ""),
    ("\n\n", ""),
    (" Label: neutral", ""),
])
def test_explanation_only(reply, expected):
    p = parse_reply(reply, LABELS)
    assert p.explanation == expected
    assert (p.failure == "empty explanation") == (expected == "")
    assert p.n_words == len(expected.split())


def test_full_replies_with_label():
    p = parse_reply(" Neutral.\nExplanation: not all men are fathers.", LABELS, expect_label=True, order="pe")
    assert (p.label, p.explanation, p.failure) == ("neutral", "not all men are fathers.", None)
    p = parse_reply(" A dog is an animal.\nLabel: entailment", LABELS, expect_label=True, order="ep")
    assert (p.label, p.explanation, p.ok) == ("entailment", "A dog is an animal.", True)
    p = parse_reply(" A dog is an animal.\nLabel: maybe", LABELS, expect_label=True, order="ep")
    assert p.failure == "no label" and p.label is None
    assert match_label('"Contradiction"', LABELS) == "contradiction"
    assert match_label("the answer", LABELS) is None


def test_real_replies_of_the_embedded_model():
    """Replies recorded from SmolLM2-135M on demo self-explanation prompts (see the fixture's
    ``source``): every one parses to an explanation or a named failure, never silently empty."""
    if not REPLIES.is_file():
        pytest.skip("no recorded replies")
    recs = [json.loads(line) for line in REPLIES.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(recs) >= 8
    for r in recs:
        p = parse_reply(r["reply"], LABELS)
        assert p.explanation == r["explanation"], r
        assert p.failure == r["failure"], r
        assert p.failure is not None or p.explanation
