"""Subword -> word mapping through offsets, and deterministic top-k."""

from __future__ import annotations

import numpy as np

from faithscope.methods.word_scores import aggregate, token_to_word, top_k
from faithscope.tasks.render import render
from faithscope.types import Example

EX = Example("x", {"claim": ("Mount", "Hood", "erupted."), "evidence": ("It", "did", "not", "erupt", ".")}, "refutes")


def test_leading_space_offsets_map_to_the_word(loaded_model):
    # SmolLM2 gives " Hood" the offsets (5, 10) that start on the preceding space.
    prompt = render('Claim: {claim} Evidence: "{evidence}" Label:', EX)
    enc = loaded_model.tokenizer(prompt.text, return_offsets_mapping=True)
    tokens = loaded_model.tokenizer.convert_ids_to_tokens(enc.input_ids)
    mapping = token_to_word(enc.offset_mapping, prompt.word_spans)
    i = tokens.index("ĠMount")
    start, end = enc.offset_mapping[i]
    assert prompt.text[start] == " "  # the offset starts on the space ...
    assert mapping[i] == 0  # ... and the token still goes to word 0 "Mount"
    words = {}
    for tok, w in zip(tokens, mapping):
        if w is not None:
            words.setdefault(w, []).append(tok)
    assert "".join(words[1]).replace("Ġ", "") == "Hood"
    assert "".join(words[2]).replace("Ġ", "") == "erupted."
    assert enc.offset_mapping[i] == (6, 12)  # the case named in the issue
    assert mapping[0] is None and mapping[tokens.index("ĠEvidence")] is None  # instruction text maps to no word
    # '."' spans the word "." and the template's closing quote: it goes to the word
    j = tokens.index('."')
    assert mapping[j] == 7
    assert "".join(words[5]).replace("Ġ", "") == "not"


def test_handmade_offsets_largest_overlap():
    spans = [(0, 7, 12), (1, 13, 17)]  # "Mount" at 7..12, "Hood" at 13..17
    offsets = [(0, 6), (6, 12), (12, 17), (17, 19), (0, 0)]
    assert token_to_word(offsets, spans) == [None, 0, 1, None, None]
    # a token spanning the end of one word and template text goes to the word it overlaps
    assert token_to_word([(15, 19)], spans) == [1]


def test_word_score_is_sum_of_subword_scores():
    scores = aggregate(np.array([0.5, 1.0, 2.0, 4.0]), [None, 0, 0, 1], 3)
    assert scores.tolist() == [3.0, 4.0, 0.0]


def test_top_k_ties_by_position_and_signed_order():
    assert top_k([0.1, 0.5, 0.5, -2.0, 0.5], 2) == (1, 2)
    assert top_k([-1.0, -0.5, 0.0], 1) == (2,)  # most positive first, not largest magnitude
    assert top_k([1.0, 2.0, 3.0], 0) == ()
    assert top_k([1.0, 2.0, 3.0], 5) == (0, 1, 2)
    allowed = np.array([True, True, False])
    assert top_k([1.0, 2.0, 3.0], 1, allowed) == (1,)
