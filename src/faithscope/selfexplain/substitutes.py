"""Candidate substitutes for one word: WordNet antonyms first, then frequent same-POS words.

The counterfactual pseudo-explanation (:mod:`.pseudo`) replaces the word that matters most for
the model's answer by a substitute that makes the model predict the target label. This module
proposes the substitutes; :mod:`.pseudo` scores them.

* **Antonyms** come from the pointer lists of WordNet 3.0's ``data.{noun,verb,adj,adv}`` (read
  offline from Debian's ``wordnet-base`` files, as :mod:`faithscope.counterfactual.wordnet`):
  the *direct* antonyms (lexical pointer ``!``) of every sense of the word's base forms
  (:func:`faithscope.counterfactual.pos.morphy`), and for adjective satellites the *indirect*
  antonyms (the antonyms of the head synset a satellite is similar to, pointer ``&``), in
  file order. Only single-word, lowercase ASCII lemmas are kept.
* **Same-POS words**: the word's POS is tagged in its field (:class:`~faithscope.counterfactual.pos.Tagger`);
  candidates are the most frequent WordNet lemmas of that POS (tagged-sense count, ties by
  lemma) — for ``OTHER`` (closed-class words: determiners, prepositions, ...), the closed-class
  list of the tagger, sorted. Frequent words keep the edited text natural.

A substitute keeps the original word's surrounding punctuation and capitalisation
(:func:`apply_case`), and never equals the word itself (case-insensitive).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from ..counterfactual.pos import CLOSED, Tagger, core, morphy
from ..counterfactual.wordnet import POS_FILES, load_lexicon, wordnet_dir

_WORD = re.compile(r"^[a-z]+$")
_ADJ_MARKER = re.compile(r"\((a|p|ip)\)$")
_TAG_POS = {"NOUN": "noun", "VERB": "verb", "ADJ": "adj", "ADV": "adv"}
_POS_LETTER = {"n": "noun", "v": "verb", "a": "adj", "s": "adj", "r": "adv"}


@lru_cache(maxsize=2)
def _synsets(folder: str) -> dict[tuple[str, int], tuple[tuple[str, ...], tuple[tuple[int, str, int, int], ...], tuple[int, ...], bool]]:
    """(pos, offset) -> (words, antonym pointers (src, pos, offset, target), similar-to offsets, satellite)."""
    out = {}
    for pos, name in POS_FILES.items():
        with (Path(folder) / f"data.{name}").open(encoding="utf-8") as f:
            for line in f:
                if line.startswith("  "):
                    continue
                parts = line.split(" | ", 1)[0].split()
                offset, ss_type, w_cnt = int(parts[0]), parts[2], int(parts[3], 16)
                words = tuple(_ADJ_MARKER.sub("", parts[4 + 2 * i]).lower() for i in range(w_cnt))
                i = 4 + 2 * w_cnt
                p_cnt = int(parts[i])
                ants, similar = [], []
                for j in range(p_cnt):
                    sym, off, tpos, st = parts[i + 1 + 4 * j: i + 5 + 4 * j]
                    if sym == "!":
                        ants.append((int(st[:2], 16), _POS_LETTER[tpos], int(off), int(st[2:], 16)))
                    elif sym == "&" and ss_type == "s":
                        similar.append(int(off))
                out[(pos, offset)] = (words, tuple(ants), tuple(similar), ss_type == "s")
    return out


@lru_cache(maxsize=2)
def _word_index(folder: str) -> dict[tuple[str, str], tuple[int, ...]]:
    """(pos, lemma) -> offsets of its synsets, from the data files (lemma lowercase)."""
    index: dict[tuple[str, str], list[int]] = {}
    for (pos, offset), (words, _, _, _) in _synsets(folder).items():
        for w in words:
            index.setdefault((pos, w), []).append(offset)
    return {k: tuple(v) for k, v in index.items()}


def antonyms(word: str, path: str | None = None) -> list[str]:
    """Direct then indirect (adjective satellite) WordNet antonyms of ``word``, deduplicated."""
    folder = str(wordnet_dir(path))
    synsets, index, lexicon = _synsets(folder), _word_index(folder), load_lexicon(path)
    low = core(word).lower()
    direct: list[str] = []
    indirect: list[str] = []
    for pos in POS_FILES:
        for base in morphy(low, pos, lexicon):
            for offset in index.get((pos, base), ()):
                words, ants, similar, _ = synsets[(pos, offset)]
                me = words.index(base) + 1
                for src, tpos, toff, tgt in ants:
                    if src in (0, me) and (tpos, toff) in synsets:
                        twords = synsets[(tpos, toff)][0]
                        direct.extend(twords if tgt == 0 else [twords[tgt - 1]])
                for head in similar:
                    for _, tpos, toff, tgt in synsets[(pos, head)][1]:
                        twords = synsets[(tpos, toff)][0]
                        indirect.extend(twords if tgt == 0 else [twords[tgt - 1]])
    seen: set[str] = {low}
    out = []
    for w in direct + indirect:
        if _WORD.match(w) and w not in seen:
            seen.add(w)
            out.append(w)
    return out


@lru_cache(maxsize=8)
def frequent_words(tag: str, n: int, path: str | None = None) -> tuple[str, ...]:
    """The ``n`` most frequent single-word lemmas of POS tag ``tag`` (closed-class list for OTHER)."""
    if tag not in _TAG_POS:
        return tuple(w for w in sorted(CLOSED) if _WORD.match(w))[:n]
    lemmas = load_lexicon(path).lemmas[_TAG_POS[tag]]
    ranked = sorted((w for w in lemmas if _WORD.match(w)), key=lambda w: (-lemmas[w], w))
    return tuple(ranked[:n])


def apply_case(original: str, substitute: str) -> str:
    """``substitute`` in the place of ``original``'s core: its punctuation and capitalisation kept."""
    c = core(original)
    start = original.find(c) if c else 0
    if c[:1].isupper():
        substitute = substitute[:1].upper() + substitute[1:]
    return original[:start] + substitute + original[start + len(c):]


def candidates(words: tuple[str, ...], index: int, *, antonym_limit: int = 10, same_pos: int = 20, tagger: Tagger | None = None,
               path: str | None = None) -> list[tuple[str, str]]:
    """Substitutes for ``words[index]`` in its field: ``(replacement token, source)`` with
    source ``antonym`` (at most ``antonym_limit``) then ``same-pos`` (at most ``same_pos``);
    each lowercase lemma once, never the word itself."""
    word = words[index]
    low = core(word).lower()
    if not low:
        return []
    tag = (tagger or Tagger(load_lexicon(path))).tag(list(words))[index]
    seen = {low}
    out: list[tuple[str, str]] = []
    for source, pool, limit in (("antonym", antonyms(word, path), antonym_limit),
                                ("same-pos", frequent_words(tag, same_pos + 1, path), same_pos)):
        taken = 0
        for w in pool:
            if taken < limit and w not in seen:
                seen.add(w)
                taken += 1
                out.append((apply_case(word, w), source))
    return out
