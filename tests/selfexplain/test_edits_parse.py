"""The pure edit and parse rules behind the checks, against hand-worked cases."""

from faithscope.selfexplain import parse
from faithscope.selfexplain.edits import changed_positions, n_edited_words, redaction_positions, same_words
from faithscope.types import Example

M = "[REDACTED]"
ORIG = "A man , in a red shirt , sleeps .".split()


def test_redaction_positions_rule():
    assert redaction_positions(ORIG, "A man, in a [REDACTED] shirt, sleeps.".split(), M) == (5,)
    assert redaction_positions(ORIG, "a MAN in a [redacted] [REDACTED] sleeps".split(), M) == (5, 6)
    assert redaction_positions(ORIG, "A man, in a [REDACTED], sleeps.".split(), M) == (5, 6)  # one marker, two words
    assert redaction_positions(ORIG, "[REDACTED] [REDACTED]".split(), M) == (0, 1, 3, 4, 5, 6, 8)  # earliest-first alignment
    assert redaction_positions(ORIG, "A man in a red shirt sleeps.".split(), M) is None  # no marker
    assert redaction_positions(ORIG, "A woman in a [REDACTED] shirt sleeps.".split(), M) is None
    assert redaction_positions(ORIG, "A man in a [REDACTED] shirt sleeps soundly.".split(), M) is None
    assert redaction_positions(ORIG, "A man in a [REDACTED] shirt".split(), M) is None
    assert redaction_positions(["dog"], ["[REDACTED]", "[REDACTED]"], M) is None  # a marker covers at least one word


def test_counterfactual_diff():
    assert same_words(ORIG, "a man in a red shirt sleeps".split())
    assert changed_positions(ORIG, "A man in a blue shirt is awake.".split()) == (5, 8)
    assert n_edited_words(ORIG, "A man in a blue shirt is awake.".split()) == 3  # red->blue, sleeps->is awake
    assert changed_positions(ORIG, "A tall man in a red shirt sleeps.".split()) == ()  # an insertion changes no word


def test_word_list_parse():
    ex = Example("x", {"text": ("I", "love", "it,", "really!")}, "positive")
    got = parse.parse_word_list('Words: "love", IT | really!!\nmaybe', ex)
    assert got.words == ("love", "IT", "really!!", "maybe") and got.found == ("love", "IT", "really!!")
    assert got.not_found == ("maybe",) and got.failure is None
    assert parse.parse_word_list("nothing here", ex).failure == parse.NO_INPUT_WORD


def test_rewrite_parse():
    assert parse.parse_rewrite('\n  Edited hypothesis: "A cat sleeps."\nExplanation: ...', "hypothesis") == "A cat sleeps."
    assert parse.parse_rewrite('Redacted article: [REDACTED] wins', "text", ("Redacted article",)) == "[REDACTED] wins"
    assert parse.parse_rewrite('  "" ', "text") is None
