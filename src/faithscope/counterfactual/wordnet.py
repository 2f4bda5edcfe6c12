"""WordNet 3.0 read offline from Debian's ``wordnet-base`` data files (no NLTK, no download).

Two things come from WordNet: the **word lists** the interventions draw from (adjectives of
``data.adj``, adverbs of ``data.adv``) and the **lexicon** the POS tagger looks words up in
(``index.{noun,verb,adj,adv}`` with their tagged-sense counts as a frequency proxy, plus the
morphology exception lists ``*.exc``). Multiword lemmas (``ice_cream``) are **excluded**
everywhere: an inserted word must be one whitespace word so that mention detection and word
positions stay one-to-one. Lemmas with anything but ASCII letters (``o'clock``, ``x-ray``,
``Aachen``-style capitalised names) are excluded from the word lists too.

The folder is ``$WORDNET_DIR`` or ``/usr/share/wordnet`` (``apt-get install wordnet-base``).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Mapping

from ..errors import ConfigError

WORDNET_ENV = "WORDNET_DIR"
DEFAULT_DIR = Path("/usr/share/wordnet")
POS_FILES = {"noun": "noun", "verb": "verb", "adj": "adj", "adv": "adv"}
_WORD = re.compile(r"^[a-z]+$")
_ADJ_MARKER = re.compile(r"\((a|p|ip)\)$")  # syntactic markers on adjective lemmas: galore(ip)


def wordnet_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The WordNet data folder; a ConfigError saying how to install it when absent."""
    folder = Path(path or os.environ.get(WORDNET_ENV) or DEFAULT_DIR)
    if not (folder / "index.noun").is_file():
        raise ConfigError(f"WordNet data files not found in {folder}: install them with "
                          f"'apt-get install wordnet-base' or set {WORDNET_ENV} to a folder holding index.noun")
    return folder


@dataclass(frozen=True)
class Lexicon:
    """Single-word lemmas per POS with their tagged-sense counts, and the exception lists."""

    lemmas: Mapping[str, Mapping[str, int]]
    """pos -> lemma -> tagged-sense count (SemCor frequency; 0 for untagged lemmas)."""
    exceptions: Mapping[str, Mapping[str, tuple[str, ...]]]
    """pos -> inflected form -> base forms (``noun.exc``: ``mice -> mouse``)."""
    folder: str


def _read_index(path: Path) -> dict[str, int]:
    out: dict[str, int] = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.startswith("  "):  # licence header
                continue
            parts = line.split()
            lemma = parts[0]
            if "_" in lemma:
                continue
            p_cnt = int(parts[3])
            tagged = int(parts[5 + p_cnt])
            out[lemma] = tagged
    return out


def _read_exc(path: Path) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and "_" not in parts[0]:
                out[parts[0]] = tuple(p for p in parts[1:] if "_" not in p)
    return out


@lru_cache(maxsize=4)
def load_lexicon(path: str | None = None) -> Lexicon:
    """Read the four index files and four exception lists once per folder (cached)."""
    folder = wordnet_dir(path)
    lemmas = {pos: _read_index(folder / f"index.{name}") for pos, name in POS_FILES.items()}
    exceptions = {pos: _read_exc(folder / f"{name}.exc") for pos, name in POS_FILES.items()
                  if (folder / f"{name}.exc").is_file()}
    return Lexicon(lemmas=lemmas, exceptions=exceptions, folder=str(folder))


def _data_words(path: Path, adjective: bool) -> list[str]:
    words: set[str] = set()
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.startswith("  "):
                continue
            parts = line.split(" ", 4)
            w_cnt = int(parts[3], 16)
            fields = line.split()[4:4 + 2 * w_cnt:2]
            for lemma in fields:
                if adjective:
                    lemma = _ADJ_MARKER.sub("", lemma)
                if _WORD.match(lemma):
                    words.add(lemma)
    return sorted(words)


@lru_cache(maxsize=4)
def word_lists(path: str | None = None) -> dict[str, tuple[str, ...]]:
    """Sorted single-word, lowercase ASCII adjectives (``adj``) and adverbs (``adv``) of the
    synsets in ``data.adj`` / ``data.adv``. Sorted, so a seeded draw is the same everywhere."""
    folder = wordnet_dir(path)
    return {"adj": tuple(_data_words(folder / "data.adj", True)),
            "adv": tuple(_data_words(folder / "data.adv", False))}
