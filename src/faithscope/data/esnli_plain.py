"""e-SNLI plain-text split files, no highlights (dataset ``esnli-plain``, task ``esnli``).

Reads ``esnli/s1.<split>``, ``s2.<split>``, ``labels.<split>`` and
``preproc1_expl_{1,2,3}.<split>``: line i of every file is pair i (no pairID, so ids are
``<split>-<line>``). The sentences are tokenised (punctuation split off by spaces); with
``detokenize=True`` (default) punctuation is glued back so the text looks like the highlight
CSV's (``"church ."`` -> ``"church."``), which matters because fine-tuning uses this split and
train/eval disjointness is later checked on normalised text. No human rationales.
"""

from __future__ import annotations

import os

from ..errors import DataError
from ..types import Example
from .common import ErrorHandler, SeenIds, check_label, check_words, dataset_dir, emit, read_text, source_name
from .words import split_words

LABELS = ("entailment", "contradiction", "neutral")
EXPLANATION_FILES = ("preproc1_expl_1", "preproc1_expl_2", "preproc1_expl_3")

_ATTACH_LEFT = {".", ",", "!", "?", ";", ":", ")", "]", "}", "%", "...", "''"}
_CLITICS = {"'s", "n't", "'re", "'ve", "'ll", "'d", "'m"}
_ATTACH_RIGHT = {"(", "[", "{", "$", "``"}
_QUOTES = {"``": '"', "''": '"'}


def detokenize(text: str) -> str:
    """Glue PTB-style split punctuation back onto words.

    ``"the church ."`` -> ``"the church."``; ``"it 's"`` -> ``"it's"``; ``"do n't"`` ->
    ``"don't"``; ``"( a )"`` -> ``"(a)"``; ````` `` hi '' ````` -> ``'"hi"'``. Other tokens keep
    their single spaces; leading/trailing whitespace is dropped.
    """
    out = ""
    glue_next = True  # nothing before the first token
    for token in text.split():
        low = token.lower()
        piece = _QUOTES.get(token, token)
        if glue_next or token in _ATTACH_LEFT or low in _CLITICS:
            out += piece
        else:
            out += " " + piece
        glue_next = token in _ATTACH_RIGHT
    return out


_detokenize = detokenize  # ``load`` has a parameter of the same name


def load(
    data_dir: str | os.PathLike[str] | None,
    *,
    on_error: ErrorHandler | None = None,
    split: str = "test",
    detokenize: bool = True,
) -> list[Example]:
    """All pairs of one split, in line order. Line counts must agree across the files."""
    folder = dataset_dir(data_dir, "esnli", f"s1.{split}")
    names = ("s1", "s2", "labels", *EXPLANATION_FILES)
    paths = {name: folder / f"{name}.{split}" for name in names}
    lines = {name: read_text(path).splitlines() for name, path in paths.items()}
    n = len(lines["s1"])
    for name in names[1:]:
        if len(lines[name]) != n:
            raise DataError(str(paths[name]), None, None,
                            f"has {len(lines[name])} lines but {paths['s1'].name} has {n}; "
                            "the files are aligned by line, so they must have the same number of lines")

    def text(value: str) -> str:
        return _detokenize(value) if detokenize else " ".join(value.split())

    examples: list[Example] = []
    seen = SeenIds("line")  # ids are split-line numbers: unique by construction, checked like every loader's
    for i in range(n):
        line = i + 1
        try:
            seen.check(f"{split}-{line}", paths["s1"], line)
            premise = check_words(split_words(text(lines["s1"][i])), paths["s1"], line, "premise")
            hypothesis = check_words(split_words(text(lines["s2"][i])), paths["s2"], line, "hypothesis")
            label = check_label(lines["labels"][i].strip(), LABELS, paths["labels"], line, "label")
        except DataError as e:
            emit(e, on_error)
            continue
        examples.append(Example(
            id=f"{split}-{line}",
            fields={"premise": premise, "hypothesis": hypothesis},
            label=label,
            explanations=tuple(text(lines[name][i]) for name in EXPLANATION_FILES),
            source=f"{source_name(paths['s1'])}:{line}",
        ))
    return examples
