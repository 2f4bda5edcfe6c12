"""Interventions: deterministic under a seed, only field words change, words not in the input."""

import pytest

from faithscope.counterfactual.interventions import InterventionGenerator, apply, input_vocabulary
from faithscope.counterfactual.mentions import mentions
from faithscope.data import load_dataset
from faithscope.errors import ConfigError
from faithscope.tasks import load_task
from faithscope.tasks.render import render
from faithscope.types import Example


def _gen(lists, tagger, **kw):
    return InterventionGenerator(word_lists=lists, tagger=tagger, **kw)


def test_deterministic_under_seed(lists, tagger):
    exs = load_dataset("demo").examples[:10]
    a = [_gen(lists, tagger, seed=3).generate(e) for e in exs]
    b = [_gen(lists, tagger, seed=3).generate(e) for e in reversed(exs)][::-1]
    assert a == b  # same seed, any order: same interventions
    c = [_gen(lists, tagger, seed=4).generate(e) for e in exs]
    assert a != c
    assert all(len(x) <= 16 for x in a) and sum(map(len, a)) > 50


def test_kinds_positions_and_counts(lists, tagger):
    ex = Example("x", {"premise": ("A", "man", "plays", "a", "guitar."), "hypothesis": ("A", "man", "sings.")}, "neutral")
    ivs = _gen(lists, tagger, positions=2, words=3, seed=1).generate(ex)
    fields = {iv.field for iv in ivs}
    assert len(fields) == 1  # one field per example
    assert len({iv.index for iv in ivs}) == 2 and len(ivs) == 6
    tags = tagger.tag(ex.fields[ivs[0].field])
    for iv in ivs:
        assert (iv.kind, tags[iv.index]) in (("adj", "NOUN"), ("adv", "VERB"))
        assert iv.word in lists[iv.kind]
        assert iv.word not in input_vocabulary(ex)


def test_never_edits_instruction_text(lists, tagger):
    task = load_task("demo")
    template = task.prompts["classification"]
    for ex in load_dataset("demo").examples[:8]:
        base = render(template, ex)
        for iv in _gen(lists, tagger).generate(ex):
            edited = apply(ex, iv)
            out = render(template, edited)
            # every character outside the field words is the same, in the same order
            def outside(rp):
                keep, last = [], 0
                for _, s, e in rp.word_spans:
                    keep.append(rp.text[last:s]); last = e
                keep.append(rp.text[last:])
                return keep
            assert outside(out)[0] == outside(base)[0] and outside(out)[-1] == outside(base)[-1]
            assert out.text.replace(" " + iv.word, "", 1) == base.text or out.text.replace(iv.word + " ", "", 1) == base.text
            assert edited.fields[iv.field][iv.index] == iv.word
            assert sum(len(w) for w in edited.fields.values()) == ex.n_words + 1


def test_word_in_original_text_never_drawn(tagger):
    lists = {"adj": ("red", "blue"), "adv": ("fast", "slowly")}
    ex = Example("x", {"premise": ("A", "Red", "car."), "hypothesis": ("It", "moves", "fast.")}, "neutral")
    for seed in range(20):
        for iv in _gen(lists, tagger, positions=4, words=2, seed=seed).generate(ex):
            assert iv.word not in ("red", "fast")  # present in the input (case, punctuation ignored)
            assert not mentions(" ".join(ex.words), iv.word)


def test_editable_fields_and_bad_options(lists, tagger):
    ex = Example("q", {"question": ("Where", "is", "the", "fish?"), "choices": ("(A)", "river", "(B)", "sky")}, "A")
    ivs = _gen(lists, tagger, fields=["question"]).generate(ex)
    assert ivs and {iv.field for iv in ivs} == {"question"}
    with pytest.raises(ConfigError):
        _gen(lists, tagger, positions=0)
    with pytest.raises(ConfigError):
        _gen(lists, tagger, fields=["nope"]).generate(ex)
