"""The small typed records that flow through faithscope.

data -> :class:`Example`; models -> :class:`LabelScores`; methods -> :class:`Rationale`;
runs store them; metrics and reports read them back. Word positions are *global*: position
``i`` is the i-th whitespace word of the example's input fields taken in the task's field
order (premise words, then hypothesis words; claim words, then evidence words). That makes a
rationale a plain set of ints that every metric can compare, whatever the dataset.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Mapping, Sequence

Purpose = Literal["alignment", "faithfulness"]
"""Why a rationale is extracted: for the TRUE label (alignment with humans) or the PREDICTED
label (faithfulness to the model), paper footnote 2."""


@dataclass(frozen=True)
class Example:
    """One labelled input with its human rationale.

    ``fields`` maps field name (``premise``, ``hypothesis``, ``claim``, ``evidence``, ``bio``)
    to the tuple of its whitespace words (ERASER convention). ``rationale`` holds the global
    word positions of the default human rationale; ``annotator_rationales`` one set per
    annotator where the dataset has them. ``explanations`` are free-text explanations
    (e-SNLI's ``Explanation_k``), used by counterfactual tests.
    """

    id: str
    fields: Mapping[str, tuple[str, ...]]
    label: str
    rationale: frozenset[int] = frozenset()
    annotator_rationales: tuple[frozenset[int], ...] = ()
    explanations: tuple[str, ...] = ()
    source: str = ""
    """Where the record came from (``file:line``), for error messages and provenance."""

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(self.fields)

    @property
    def words(self) -> tuple[str, ...]:
        """All selectable words, in global position order."""
        out: list[str] = []
        for ws in self.fields.values():
            out.extend(ws)
        return tuple(out)

    @property
    def n_words(self) -> int:
        return sum(len(ws) for ws in self.fields.values())

    def field_offsets(self) -> dict[str, int]:
        """Global position of the first word of each field."""
        offsets, start = {}, 0
        for name, ws in self.fields.items():
            offsets[name] = start
            start += len(ws)
        return offsets

    def text(self, name: str) -> str:
        return " ".join(self.fields[name])


@dataclass(frozen=True)
class LabelScores:
    """The model's distribution over a task's labels at the answer position.

    ``logprobs`` are the log-probabilities of each label's full verbalizer token sequence
    (teacher-forced, summed over its tokens), *not* renormalised over the label set;
    ``probs`` are those renormalised over the label set. ``tokens`` records which
    verbalizer token ids were scored for each label, so results can be audited.
    """

    labels: tuple[str, ...]
    logprobs: tuple[float, ...]
    tokens: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    truncated_words: int = 0
    """Words dropped from the truncatable field to fit the context window (0 = none)."""
    source: str = "logprobs"
    """``logprobs`` (scored), ``generation`` (a server gave no log-probability for some label;
    the label was parsed from its reply: log-prob 0 for it, -inf for the others) or
    ``unparseable`` (the reply named no label: :attr:`predicted` is ``""``, never a label)."""

    @property
    def predicted(self) -> str:
        if self.source == "unparseable":
            return ""
        best = max(range(len(self.labels)), key=lambda i: (self.logprobs[i], -i))
        return self.labels[best]

    @property
    def probs(self) -> tuple[float, ...]:
        import math

        m = max(self.logprobs)
        if not math.isfinite(m):
            return tuple(math.nan for _ in self.logprobs)
        ex = [math.exp(lp - m) for lp in self.logprobs]
        s = sum(ex)
        return tuple(e / s for e in ex)

    def logprob(self, label: str) -> float:
        return self.logprobs[self.labels.index(label)]


@dataclass(frozen=True)
class Rationale:
    """A set of selected word positions, with how it was obtained.

    ``scores`` (attribution methods) holds one score per global word position, so that
    top-k can be re-selected and skewness computed from stored results. Prompting methods
    keep the ``raw_reply``, whether it could be ``parsed`` at all, and the reply words that
    are not in the input (``not_found``). A failed parse is recorded as such, never as a
    silently empty rationale.
    """

    method: str
    positions: tuple[int, ...]
    target_label: str
    k: int | None = None
    scores: tuple[float, ...] | None = None
    raw_reply: str | None = None
    parsed: bool = True
    not_found: tuple[str, ...] = ()
    n_reply_words: int = 0
    draws: tuple[tuple[int, ...], ...] = ()
    """Extra random draws (the ``random`` method's alignment averages over many seeds)."""
    parse_error: str | None = None
    """Why a prompting reply could not be parsed (``parsed`` is False), e.g. ``echoes the prompt``;
    see :data:`faithscope.methods.reply_parser.PARSE_FAILURES`."""
    skipped: bool = False
    """No prompt was sent: TOP-VAR with k = 0 (no human rationale). Such a rationale has
    ``k == 0``, no positions and ``raw_reply`` None, and is left out of the TOP-VAR cells."""


@dataclass(frozen=True)
class Prediction:
    """Classification of one (possibly masked) input."""

    example_id: str
    variant: str
    """``orig`` for the unmodified input, otherwise which words were masked."""
    scores: LabelScores

    @property
    def label(self) -> str:
        return self.scores.predicted


def label_index(labels: Sequence[str], label: str) -> int:
    try:
        return list(labels).index(label)
    except ValueError:
        raise ValueError(f"unknown label {label!r}; this task's labels are {', '.join(labels)}") from None
