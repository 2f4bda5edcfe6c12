"""Stop sequences: a reply with stops equals the no-stop reply truncated at the stop."""

import pytest

from faithscope.models.base import per_prompt_stops, truncate_at_stop


def test_truncate_and_per_prompt_stops():
    assert truncate_at_stop("a b\n\nc\n\nd", ["\n\n"]) == "a b"
    assert truncate_at_stop("x. Label: y", ["\n", "Label:"]) == "x. "
    assert truncate_at_stop("abc", []) == "abc"
    assert truncate_at_stop("\n\nThe words: a | b\n\nmore", ["\n\n"]) == "\n\nThe words: a | b"  # leading blank line kept
    assert per_prompt_stops(None, 2) == [(), ()]
    assert per_prompt_stops(["\n\n", ""], 2) == [("\n\n",), ("\n\n",)]
    assert per_prompt_stops([["a"], []], 2) == [("a",), ()]
    with pytest.raises(ValueError):
        per_prompt_stops([["a"]], 2)


def test_hf_stops_equal_truncated_replies(backend):
    prompts = ["List three colours, one per line:\n", "Write two short sentences about dogs.\n",
               "Q: What is 2+3?\nA:", "Premise: A man sleeps.\nHypothesis: A man rests.\nLabel:"]
    stops = [["\n"], ["."], ["\n\n"], ["\n"]]
    full = backend.generate(prompts, 24)
    stopped = backend.generate(prompts, 24, stop=stops)
    assert stopped == [truncate_at_stop(f, s) for f, s in zip(full, stops)]
    assert any(len(s) < len(f) for s, f in zip(stopped, full))  # some stop actually fired
    # different budgets per prompt share a batch and stay identical
    assert backend.generate(prompts, [4, 24, 8, 24]) == [backend.generate([p], b)[0] for p, b in zip(prompts, [4, 24, 8, 24])]
