"""The offline WordNet POS tagger: morphology, and accuracy on hand-tagged samples."""

from faithscope.counterfactual.pos import morphy

from .pos_sample import HELD_OUT, SAMPLE


def _accuracy(tagger, sample):
    n = ok = 0
    for sentence in sample:
        words = [w for w, _ in sentence]
        gold = [g for _, g in sentence]
        pred = tagger.tag(words)
        ok += sum(g == p for g, p in zip(gold, pred))
        n += len(words)
    return ok, n


def test_morphy_uses_exceptions_and_rules(lexicon):
    assert morphy("mice", "noun", lexicon) == ["mouse"]
    assert morphy("children", "noun", lexicon) == ["child"]
    assert "run" in morphy("running", "verb", lexicon)
    assert "big" in morphy("bigger", "adj", lexicon) and morphy("happiest", "adj", lexicon) == ["happy"]
    assert morphy("xyzzy", "noun", lexicon) == []


def test_accuracy_on_hand_tagged_samples(tagger):
    ok, n = _accuracy(tagger, SAMPLE)
    assert n >= 60 and ok / n >= 0.95  # measured 115/117 = 98.3% (the rules were tuned on it)
    ok, n = _accuracy(tagger, HELD_OUT)
    assert n >= 60 and ok / n >= 0.95  # measured 72/73 = 98.6% (held out: written after the rules)


def test_closed_class_and_punctuation(tagger):
    assert tagger.tag(["The", "dog,", "is", "happy."]) == ["OTHER", "NOUN", "OTHER", "ADJ"]
    assert tagger.tag(["--", "42"]) == ["OTHER", "OTHER"]


def test_word_lists_single_words_only(lists):
    assert len(lists["adj"]) > 10000 and len(lists["adv"]) > 3000
    assert all(w.isalpha() and w.islower() for w in lists["adj"] + lists["adv"])
    assert "happy" in lists["adj"] and "quickly" in lists["adv"]
    assert list(lists["adj"]) == sorted(lists["adj"])


def test_indefinite_pronouns_are_not_nouns(tagger):
    # found on ECQA: "What helps someone be a good teacher?" got an adjective before "someone"
    assert tagger.tag(["What", "helps", "someone", "be", "a", "good", "teacher?"])[2] == "OTHER"
