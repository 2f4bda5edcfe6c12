"""Counterfactual interventions (Atanasova et al. 2023): insert a random adjective before a
noun, or a random adverb before a verb, of one input field.

Per example (all draws from ``random.Random(f"{seed}:{example.id}")``, so an example's
interventions do not depend on which other examples are in the run, and a resumed run draws
the same ones):

1. one **field** is chosen at random among the task's editable fields (``[counterfactual]
   fields`` of the task file; default all) that hold at least one noun or verb;
2. up to ``positions`` distinct **positions** (nouns and verbs of that field, tagged by
   :mod:`.pos`) are chosen at random;
3. at each position, up to ``words`` distinct random **words** are drawn: WordNet adjectives
   before a noun, adverbs before a verb (:func:`.wordnet.word_lists`, single words only).
   A word that already occurs in the example's input (any field, case-insensitive, whole
   word) is never drawn, so that a mention of the inserted word in the explanation cannot
   come from the original text.

An intervention only adds one word to one field's word tuple: the instruction text of the
prompt, rendered around the fields by :mod:`faithscope.tasks.render`, is never edited. The
inserted word is lowercase and keeps no punctuation of its neighbour. Defaults: 4 positions x
4 words = at most 16 interventions per example (the reference code used 4x4 to 8x8).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Mapping, Sequence

from ..errors import ConfigError
from ..types import Example
from .pos import Tagger, core

DEFAULT_POSITIONS = 4
DEFAULT_WORDS = 4
_KIND_OF_TAG = {"NOUN": "adj", "VERB": "adv"}


@dataclass(frozen=True)
class Intervention:
    """One inserted word: ``word`` (of ``kind`` ``adj``/``adv``) put before word ``index`` of
    ``field`` (so it becomes word ``index`` and the old word moves to ``index + 1``)."""

    example_id: str
    field: str
    index: int
    word: str
    kind: str

    @property
    def key(self) -> str:
        """Identifies the intervention within its example (stable across runs)."""
        return f"{self.field}:{self.index}:{self.word}"


def apply(example: Example, intervention: Intervention) -> Example:
    """The example with the word inserted (a new :class:`Example`; the original is unchanged)."""
    words = example.fields[intervention.field]
    if not 0 <= intervention.index < len(words):
        raise ValueError(f"position {intervention.index} outside field {intervention.field!r} of {len(words)} words")
    fields = dict(example.fields)
    fields[intervention.field] = words[: intervention.index] + (intervention.word,) + words[intervention.index:]
    return Example(id=example.id, fields=fields, label=example.label, explanations=example.explanations,
                   source=example.source)


def input_vocabulary(example: Example) -> frozenset[str]:
    """Lowercased words of all fields, punctuation stripped (what "already in the input" means)."""
    return frozenset(core(w).lower() for ws in example.fields.values() for w in ws)


@dataclass
class InterventionGenerator:
    """Draws the interventions of an example; see the module docstring for the procedure."""

    word_lists: Mapping[str, Sequence[str]]
    tagger: Tagger
    positions: int = DEFAULT_POSITIONS
    words: int = DEFAULT_WORDS
    seed: int = 0
    fields: Sequence[str] | None = None
    """Editable fields (None = all fields of the example)."""

    def __post_init__(self) -> None:
        for name in ("positions", "words"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ConfigError(f"--{name} must be a positive integer, got {v!r}")

    def candidates(self, example: Example, field: str) -> list[tuple[int, str]]:
        """(index, kind) of every noun (kind ``adj``) and verb (kind ``adv``) of ``field``."""
        tags = self.tagger.tag(example.fields[field])
        return [(i, _KIND_OF_TAG[t]) for i, t in enumerate(tags) if t in _KIND_OF_TAG]

    def generate(self, example: Example) -> list[Intervention]:
        """The example's interventions, in draw order (empty if no field has a noun or verb)."""
        rng = random.Random(f"{self.seed}:{example.id}")
        editable = [f for f in (self.fields or example.fields) if f in example.fields]
        if self.fields and not editable:
            raise ConfigError(f"none of the editable fields {list(self.fields)} is a field of example {example.id!r}")
        with_cands = [(f, c) for f in editable if (c := self.candidates(example, f))]
        if not with_cands:
            return []
        field, cands = with_cands[rng.randrange(len(with_cands))]
        chosen = rng.sample(cands, min(self.positions, len(cands)))
        present = input_vocabulary(example)
        out: list[Intervention] = []
        for index, kind in chosen:
            pool = self.word_lists[kind]
            picked: list[str] = []
            tries = 0
            while len(picked) < self.words and tries < 50 * self.words:
                tries += 1
                w = pool[rng.randrange(len(pool))]
                if w not in present and w not in picked:
                    picked.append(w)
            out.extend(Intervention(example.id, field, index, w, kind) for w in picked)
        return out
