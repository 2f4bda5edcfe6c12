"""WordNet-backed fixtures (``lexicon`` is in tests/conftest.py: the sweep tests use it too)."""

import pytest


@pytest.fixture(scope="session")
def tagger(lexicon):
    from faithscope.counterfactual.pos import Tagger
    return Tagger(lexicon)


@pytest.fixture(scope="session")
def lists(lexicon):
    from faithscope.counterfactual.wordnet import word_lists
    return word_lists()
