"""An offline part-of-speech tagger from WordNet's lexicon, its morphology and a few rules.

There is no official spaCy model on PyPI, so the interventions find nouns and verbs with this
small tagger. Tags: ``NOUN``, ``VERB``, ``ADJ``, ``ADV`` and ``OTHER`` (everything else,
including auxiliaries/copulas, which UD tags ``AUX``, so no adverb is put before "is").

How a word is tagged (in this order):

1. Punctuation around the word is stripped; a word with no letters is ``OTHER``.
2. **Closed classes**: determiners, pronouns, prepositions, conjunctions, auxiliaries, modals,
   particles and a few frequent adverbs come from a fixed list (:data:`CLOSED`).
3. **Lexicon**: WordNet's ``morphy`` (the exception lists ``*.exc``, then the detachment
   rules, e.g. ``-ies -> -y``, ``-ing -> ""``/``-e``) gives the POS the word can have; each is
   weighted by 1 + the base form's tagged-sense count (a SemCor frequency proxy).
4. **Unknown words**: a capitalised word not at the start of its field is a proper noun;
   otherwise suffix rules (``-ly`` ADV, ``-ing``/``-ed`` VERB, ``-ous``/``-ful``/``-ive``/...
   ADJ, else NOUN).
5. **Context** rescales the weights: after a determiner or possessive, VERB/ADV drop (x0.05);
   after ``to``, a modal, an auxiliary ``do``, or a subject pronoun, VERB rises (x8); after a
   form of *be*, an ``-ing`` VERB reading rises (x8); before a determiner, VERB rises (x4);
   after a word tagged ADJ, VERB drops (x0.05); after a word tagged NOUN, VERB rises (x4);
   between a determiner and a word with a NOUN reading, ADJ rises (x4); a word ending in
   ``-ly`` with an ADV reading rises (x4). ``where``/``when``/``why``/``how`` are ADV.

Accuracy on the hand-tagged sample in ``tests/counterfactual/test_pos.py`` is measured there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from .wordnet import Lexicon, load_lexicon

TAGS = ("NOUN", "VERB", "ADJ", "ADV", "OTHER")
_PUNCT = "\"'`.,;:!?()[]{}<>«»“”‘’-–—…/\\*"

DETERMINERS = frozenset("a an the this that these those some any every each no another either neither "
                        "my your his her its our their whose which what all both several many few".split())
SUBJECT_PRONOUNS = frozenset("i you he she it we they who".split())
BE = frozenset("be is are was were am been being 's 're 'm".split())
MODALS = frozenset("can could will would shall should may might must do does did to".split())
CLOSED: frozenset[str] = frozenset(
    DETERMINERS | SUBJECT_PRONOUNS | BE | MODALS
    | set("me him us them mine yours hers ours theirs myself yourself himself herself itself ourselves themselves "
          "whom whose there here someone somebody anyone anybody everyone everybody nobody "
          "something anything everything nothing "
          "of in on at by for with from into onto upon over under above below about across after against along "
          "among around before behind beneath beside between beyond during except inside near off out outside "
          "since through throughout toward towards until up down within without via per like than "
          "and or but nor so yet if because although though while whereas unless whether as "
          "not n't has have had having "
          "one two three four five six seven eight nine ten".split())
)
_FREQUENT_ADVERBS = frozenset("very too also just only never always often still even already where when why how".split())

_RULES = {
    "noun": (("s", ""), ("ses", "s"), ("xes", "x"), ("zes", "z"), ("ches", "ch"), ("shes", "sh"),
             ("men", "man"), ("ies", "y")),
    "verb": (("s", ""), ("ies", "y"), ("es", "e"), ("es", ""), ("ed", "e"), ("ed", ""), ("ing", "e"), ("ing", "")),
    "adj": (("er", ""), ("est", ""), ("er", "e"), ("est", "e")),
    "adv": (),
}
_POS_TAG = {"noun": "NOUN", "verb": "VERB", "adj": "ADJ", "adv": "ADV"}
_ADJ_SUFFIXES = ("ous", "ful", "ive", "less", "able", "ible", "ical", "ish", "ic", "al")


def morphy(word: str, pos: str, lexicon: Lexicon) -> list[str]:
    """Base forms of lowercase ``word`` as ``pos`` (``noun``/``verb``/``adj``/``adv``) that
    WordNet knows: the word itself, its exception-list bases, then detachment-rule results."""
    lemmas = lexicon.lemmas[pos]
    found: list[str] = []
    for base in (word, *lexicon.exceptions.get(pos, {}).get(word, ())):
        if base in lemmas and base not in found:
            found.append(base)
    for suffix, repl in _RULES[pos]:
        if word.endswith(suffix) and len(word) > len(suffix) + 1:
            base = word[: len(word) - len(suffix)] + repl
            if base in lemmas and base not in found:
                found.append(base)
    return found


def core(word: str) -> str:
    """The word without surrounding punctuation (``"church."`` -> ``"church"``)."""
    return word.strip(_PUNCT)


@dataclass
class Tagger:
    """Tags a sequence of whitespace words (one field); see the module docstring for the rules."""

    lexicon: Lexicon

    @classmethod
    def default(cls) -> "Tagger":
        return cls(load_lexicon())

    def weights(self, word: str, first: bool) -> dict[str, float]:
        w = core(word)
        low = w.lower()
        if not any(c.isalpha() for c in w):
            return {"OTHER": 1.0}
        if low in CLOSED:
            return {"OTHER": 1.0}
        if low in _FREQUENT_ADVERBS:
            return {"ADV": 1.0}
        out: dict[str, float] = {}
        for pos, tag in _POS_TAG.items():
            bases = morphy(low, pos, self.lexicon)
            if bases:
                out[tag] = 1.0 + max(self.lexicon.lemmas[pos][b] for b in bases)
        if out:
            return out
        if w[:1].isupper() and not first:
            return {"NOUN": 1.0}
        if low.endswith("ly"):
            return {"ADV": 1.0}
        if low.endswith(("ing", "ed")):
            return {"VERB": 1.0}
        if low.endswith(_ADJ_SUFFIXES):
            return {"ADJ": 1.0}
        return {"NOUN": 1.0}

    def tag(self, words: Sequence[str]) -> list[str]:
        """One tag of :data:`TAGS` per word."""
        lows = [core(w).lower() for w in words]
        tags: list[str] = []
        for i, word in enumerate(words):
            wts = self.weights(word, first=(i == 0))
            prev = lows[i - 1] if i > 0 else ""
            nxt = lows[i + 1] if i + 1 < len(words) else ""
            if len(wts) > 1:
                wts = dict(wts)
                if prev in DETERMINERS or prev.endswith("'s"):
                    for t in ("VERB", "ADV"):
                        if t in wts:
                            wts[t] *= 0.05
                if "VERB" in wts:
                    if prev in MODALS or prev in SUBJECT_PRONOUNS:
                        wts["VERB"] *= 8
                    if prev in BE and lows[i].endswith("ing"):
                        wts["VERB"] *= 8
                    if nxt in DETERMINERS:
                        wts["VERB"] *= 4
                    prev_tag = tags[-1] if tags else ""
                    if prev_tag == "ADJ":
                        wts["VERB"] *= 0.05
                    elif prev_tag == "NOUN":
                        wts["VERB"] *= 4
                if "ADJ" in wts and (prev in DETERMINERS or prev.endswith("'s")) and "NOUN" in self.weights(words[i + 1], False) \
                        if i + 1 < len(words) else False:
                    wts["ADJ"] *= 4
                if "ADV" in wts and lows[i].endswith("ly"):
                    wts["ADV"] *= 4
            tags.append(max(TAGS, key=lambda t: (wts.get(t, 0.0), -TAGS.index(t))))
        return tags
