"""Masking a truncated prompt deletes from the visible window only (issue 11 item 3).

The masked prompt must show exactly the words the unmasked (fitted) prompt showed, minus the
masked ones: fitting the shorter masked prompt from scratch would bring trailing evidence words
into view that the model never saw, and the flip would measure new evidence, not the removal.
"""

from __future__ import annotations

from faithscope.tasks import load_task
from faithscope.tasks.fit import PromptBuilder
from faithscope.types import Example


class CharBackend:
    """One token per character: truncation without a model."""

    context_window = 400

    def count_tokens(self, text: str) -> int:
        return len(text)


def fever_like() -> Example:
    evidence = tuple(f"evidence{i:03d}" for i in range(120))  # far longer than the window
    return Example("long", {"claim": ("Mount", "Hood", "is", "in", "Oregon."), "evidence": evidence}, "supports", frozenset({5, 6, 110}))


def words(prompt) -> list[int]:
    return [g for g, _, _ in prompt.word_spans]


def test_masked_truncated_prompt_shows_only_originally_visible_words():
    builder = PromptBuilder(load_task("fever"), CharBackend(), max_length=700)
    ex = fever_like()
    orig = builder.classification(ex)
    assert orig.truncated_words > 0
    visible = set(words(orig))
    assert len(visible) > 5 + 12
    masked_positions = frozenset(sorted(visible - {0, 1, 2, 3, 4})[:12])  # twelve visible evidence words
    masked = builder.classification(ex, masked_positions)
    shown = set(words(masked))
    assert shown <= visible, f"masking revealed words the model never saw: {sorted(shown - visible)}"
    assert shown == visible - masked_positions
    assert visible == set(range(ex.n_words)) - orig.hidden
    assert masked.hidden == orig.hidden and masked.truncated_words == orig.truncated_words
    for g in shown:  # and the text holds those words, in order, not others
        assert f"evidence{g - 5:03d}" in masked.text or g < 5
    assert f"evidence{max(visible) - 5 + 1:03d}" not in masked.text


def test_placeholder_longer_than_the_word_cuts_more_never_less():
    builder = PromptBuilder(load_task("fever"), CharBackend(), max_length=400)
    ex = Example("short-words", {"claim": ("c",), "evidence": tuple(f"e{i}" for i in range(200))}, "supports")
    orig = builder.classification(ex)
    visible = set(words(orig))
    drop = frozenset(sorted(visible)[1:20])
    masked = builder.classification(ex, drop, placeholder="[PLACEHOLDER]")
    assert len(masked.text) + builder.reserve_tokens <= 400
    assert set(words(masked)) <= visible - drop
    assert masked.truncated_words >= orig.truncated_words


def test_visible_window_of_an_untruncated_example_is_every_word():
    builder = PromptBuilder(load_task("fever"), CharBackend(), max_length=4000)
    ex = fever_like()
    assert builder.classification(ex).hidden == frozenset()
    assert builder.visible(ex) == frozenset(range(ex.n_words))
