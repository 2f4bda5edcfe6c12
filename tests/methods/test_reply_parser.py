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
    ("the | the", None, (0, 6), (), True),  # a repeated word takes its next occurrence
    ("- the\n- the\n- The", None, (), (), False),  # a loop on one item is degenerate repetition, not the words "the"
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


# -- issue 11 item 2: which fields a reply selects from, and repeated words -------------------
CLAIM = tuple("Mount Hood is in the Pyrenees.".split())  # positions 0-5
EVIDENCE = tuple("Mount Hood is a volcano in Oregon . Mount Hood is tall .".split())  # positions 6-18
FEVER_WORDS = CLAIM + EVIDENCE
IN_EVIDENCE = frozenset(range(len(CLAIM), len(FEVER_WORDS)))


def test_fever_reply_selects_evidence_words_only():
    p = parse_reply("Mount | Hood | Oregon", FEVER_WORDS, None, selectable=IN_EVIDENCE)
    assert p.positions == (6, 7, 12)  # evidence "Mount", "Hood", "Oregon"; never claim positions 0, 1
    assert p.parsed and p.not_found == ()
    every = parse_reply("Mount | Hood | Oregon", FEVER_WORDS, None, selectable=IN_EVIDENCE, occurrence="every")
    assert every.positions == (6, 14, 7, 15, 12)  # both evidence occurrences of Mount and Hood, reply order
    # a word that only the claim has is not a selectable word: counted as not found, selects nothing
    p = parse_reply("Pyrenees | volcano", FEVER_WORDS, None, selectable=IN_EVIDENCE)
    assert p.positions == (10,) and p.not_found == ("Pyrenees",)


def test_without_selectable_fields_every_position_counts():
    assert parse_reply("Mount | Hood | Oregon", FEVER_WORDS, None).positions == (0, 1, 12)


ESNLI_WORDS = tuple("A man plays a guitar .".split()) + tuple("A man plays music .".split())  # premise 0-5, hypothesis 6-10


def test_esnli_reply_first_and_every_occurrence():
    both = frozenset(range(11))
    assert parse_reply("man | plays", ESNLI_WORDS, None, selectable=both).positions == (1, 2)
    assert parse_reply("man | plays", ESNLI_WORDS, None, selectable=both, occurrence="every").positions == (1, 7, 2, 8)
    assert parse_reply("man | man", ESNLI_WORDS, None, selectable=both).positions == (1, 7)  # listed twice: next occurrence
    assert parse_reply("man | man", ESNLI_WORDS, None, selectable=both, occurrence="every").positions == (1, 7)
    # TOP-VAR keeps at most k positions, also when a word selects every occurrence
    assert parse_reply("man | music", ESNLI_WORDS, 2, selectable=both, occurrence="every").positions == (1, 7)


def test_unknown_occurrence_rule_is_refused():
    with pytest.raises(ValueError):
        parse_reply("man", ESNLI_WORDS, None, occurrence="last")


# -- issue 11 item 7: template echoes and loops are parse failures, with a reason -------------
INSTRUCTION = ("Premise: \" \" Hypothesis: \" \" Label: entailment Identify the top 2 most important words from the text that are "
               "most relevant to understanding the relationship between the premise and the hypothesis.").split()


@pytest.mark.parametrize("reply, reason", [
    ("", "empty reply"),
    ("The premise says that a dog chased a cat so it is entailment.", "not a list"),
    ("The answer is: ||\n\nThe answer is: ||", "no items"),
    ("- A\n- A\n- A\n- A", "degenerate repetition"),
    ("The answer is: | dog\nThe top 2 most important words from the", "echoes the prompt"),
    ("sky | cloud | dog", "mostly not input words"),
])
def test_failure_reasons(reply, reason):
    p = parse_reply(reply, WORDS + ("A",), 2, instruction_words=INSTRUCTION)
    assert (p.parsed, p.reason, p.positions, p.not_found, p.n_words) == (False, reason, (), (), 0)


def test_echo_needs_prompt_words_that_are_not_input_words():
    # "the relationship between the" is instruction text, but here also four consecutive input words
    words = tuple("the relationship between the two dogs".split())
    p = parse_reply("the relationship between the | dogs", words, None, instruction_words=INSTRUCTION)
    assert p.parsed and p.reason is None and p.positions == (0, 1, 2, 3, 5)


def test_repetition_needs_one_item_at_least_half_of_the_items():
    p = parse_reply("- dog\n- cat\n- park\n- dog\n- the\n- dog", WORDS, None)  # dog: 3 of 6 items
    assert p.parsed is False and p.reason == "degenerate repetition"
    p = parse_reply("- dog\n- cat\n- park\n- dog\n- the\n- dog\n- chased", WORDS, None)  # 3 of 7
    assert p.parsed and p.positions == (1, 4, 7, 0, 2)  # dog, cat, park, the, chased (repeated lines once)


def test_half_the_words_not_in_the_input_still_parses():
    p = parse_reply("dog | sky", WORDS, None)  # 1 of 2 not found: not more than half
    assert p.parsed and p.positions == (1,) and p.not_found == ("sky",)


def test_a_bare_bullet_is_not_a_reply_word():
    p = parse_reply('- "A dog chased"\n-', WORDS + ("A",), None)
    assert p.parsed and p.not_found == () and p.n_words == 3


# -- item 7 on real SmolLM2 replies of the fixture file -----------------------------------------
@pytest.mark.parametrize("prefix, reason", [
    ("The answer is: ['|', 'em', 'em'", "mostly not input words"),  # parsed before, with 0 positions
    ("The most relevant words to understanding the relationship between the premise and the hypothesis are:\n\n- contradiction\n- paradox",
     "degenerate repetition"),
    ("The pipe-separated list of words is:\n\n|A young boy is sitting in a green tunnel\n|A young boy", "degenerate repetition"),
    ('The most relevant words to understanding the relationship between the premise and the hypothesis are:\n\n- "Men stand',
     "degenerate repetition"),
    ("The top 6 most relevant words are:\n- Dog herding\n- Herding\n- Herding", "degenerate repetition"),
])
def test_real_loops_and_foreign_replies_are_failures(prefix, reason):
    r = by_reply(prefix)
    p = parse_reply(r["reply"], tuple(r["words"]), r["k"])
    assert (p.parsed, p.reason, p.positions) == (False, reason, ())


def test_real_replies_that_list_input_words_still_parse():
    for prefix in ("The most relevant words to the most important words are:\n\n- \"Three children\"",
                   "The top 2 most relevant words are:\n\n- \"A lady with bright orange hair\"\n-"):
        r = by_reply(prefix)
        p = parse_reply(r["reply"], tuple(r["words"]), r["k"])
        assert p.parsed and p.reason is None and p.positions
