"""WordNet-backed fixtures: skip cleanly when the Debian wordnet-base files are missing."""

import pytest

from faithscope.errors import ConfigError


@pytest.fixture(scope="session")
def lexicon():
    from faithscope.counterfactual.wordnet import load_lexicon
    try:
        return load_lexicon()
    except ConfigError as e:  # pragma: no cover - CI installs wordnet-base
        pytest.skip(str(e))


@pytest.fixture(scope="session")
def tagger(lexicon):
    from faithscope.counterfactual.pos import Tagger
    return Tagger(lexicon)


@pytest.fixture(scope="session")
def lists(lexicon):
    from faithscope.counterfactual.wordnet import word_lists
    return word_lists()
