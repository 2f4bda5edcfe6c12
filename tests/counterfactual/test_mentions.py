"""Mention detection: case, punctuation, word boundaries, inflected forms."""

import pytest

from faithscope.counterfactual.mentions import inflected_forms, mentions


@pytest.mark.parametrize("text, word, expected", [
    ("The man wears a red hat.", "red", True),
    ("RED is the colour.", "red", True),            # case-insensitive
    ("It was (red).", "red", True),                 # punctuation is a boundary
    ("a red-haired man", "red", True),              # hyphen is a boundary
    ("He was bored.", "red", False),                # inside a longer word
    ("A reddish glow.", "red", False),
    ("The red's shade", "red", False),              # apostrophe joins: "red's" is another token
    ("", "red", False),
    ("He ran quickly", "quick", False),             # inflections off by default
])
def test_mentions(text, word, expected):
    assert mentions(text, word) is expected


def test_inflected_forms_option():
    assert mentions("He ran quickly", "quick", inflections=True)
    assert mentions("the happiest dog", "happy", inflections=True)
    assert mentions("a nicer day", "nice", inflections=True)
    assert mentions("she is quick", "quickly", inflections=True)
    assert not mentions("the quicksand", "quick", inflections=True)
    assert {"happy", "happier", "happiest", "happily"} <= inflected_forms("Happy")
