"""Parsing "list the important words" replies, on hand-made and on REAL SmolLM2 replies
(tests/fixtures/replies/smollm2_replies.jsonl, collected from `faithscope run` on the demo set
and e-SNLI)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from faithscope.methods.reply_parser import parse_reply, split_reply

FIXTURE = Path(__file__).parents[1] / "fixtures" / "replies" / "smollm2_replies.jsonl"
REAL = [json.loads(line) for line in FIXTURE.read_text().splitlines()]
WORDS = ("The", "dog", "chased", "a", "cat", "in", "the", "park.")


@pytest.mark.parametrize("reply, k, positions, not_found, parsed", [
    ("dog | cat | park", None, (1, 4, 7), (), True),
    ("Words: dog | cat | park", 2, (1, 4), (), True),  # TOP-VAR keeps the first k listed
    ("dog, Cat,\npark", None, (1, 4, 7), (), True),
    ('1. "Dog"\n2. sky', None, (1,), ("sky",), True),
    ("- the\n- the\n- The", None, (0, 6), (), True),  # repeated words take the next occurrence; duplicate lines dropped
    ("The answer is: ||\n\nThe answer is: ||", None, (), (), False),
    ("The premise says that a dog chased a cat so it is entailment.", None, (), (), False),
    ("", None, (), (), False),
    ("park", 1, (7,), (), True),
])
def test_hand_made(reply, k, positions, not_found, parsed):
    p = parse_reply(reply, WORDS, k)
    assert tuple(p.positions) == positions
    assert p.not_found == not_found
    assert p.parsed is parsed


def test_split_reply_separators_in_order():
    assert split_reply("a | b, c") == ["a", "b, c"]  # pipes win over commas
    assert split_reply("a, b\nc") == ["a", "b", "c"]
    assert split_reply("a long sentence of prose here") is None


def by_reply(prefix: str) -> dict:
    return next(r for r in REAL if r["reply"].lstrip().startswith(prefix))


def test_real_reply_listing_both_sentences():
    r = by_reply("The most relevant words to understanding the relationship between the premise and the hypothesis are:\n\n- A girl")
    p = parse_reply(r["reply"], tuple(r["words"]), None)
    assert p.parsed and p.positions == tuple(range(17))  # the model lists every word of both sentences
    assert p.not_found == ()


def test_real_reply_echoing_the_premise_is_not_a_list():
    r = by_reply('The text is: "A man is cooking dinner')
    assert parse_reply(r["reply"], tuple(r["words"]), None).parsed is False


def test_real_reply_of_empty_pipes_is_unparseable():
    r = by_reply("The answer is: ||")
    assert parse_reply(r["reply"], tuple(r["words"]), r["k"]).parsed is False


@pytest.mark.parametrize("record", REAL, ids=lambda r: f"{r['example_id']}-{r['method']}")
def test_real_replies_invariants(record):
    words = tuple(record["words"])
    p = parse_reply(record["reply"], words, record["k"])
    assert all(0 <= i < len(words) for i in p.positions)
    assert len(set(p.positions)) == len(p.positions)
    if record["k"] is not None:
        assert len(p.positions) <= record["k"]
    if not p.parsed:
        assert p.positions == () and p.not_found == ()
