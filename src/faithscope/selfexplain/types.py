"""The records that flow through the self-explanation study.

:class:`CheckRow` is one self-consistency check of one example in one style and mode (what
the store keeps and the tables aggregate); :class:`TrainItem` is one training pair (prompt,
target) for the continual-learning mix; :class:`PseudoResult` is what the pseudo-faithful
explanation builder returns, drops counted by reason.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CheckRow:
    """One self-consistency check (Madsen et al. 2024) of one example, style and mode.

    ``predicted`` is the forced-choice prediction on the original input (the answer being
    explained); ``target`` the counterfactual target label (``None`` for the other styles);
    ``reply`` the model's raw explanation reply (or the training target when a pseudo
    explanation is checked); ``explanation`` the parsed explanation (listed words joined by
    ``" | "``, or the rewritten edit field); ``failure`` why the reply could not be used
    (then ``recheck`` and ``faithful`` are ``None`` — counted, never silently dropped);
    ``recheck`` the answer on the redacted/edited input (a label or the unknown answer);
    ``faithful`` the check's verdict; ``correct`` whether ``predicted`` equals the gold label.
    """

    example_id: str
    task: str
    style: str
    mode: str
    gold: str
    predicted: str
    target: str | None
    reply: str
    explanation: str
    failure: str | None
    recheck: str | None
    faithful: bool | None
    correct: bool
    n_changed: int = 0
    """Words redacted (attribution/redaction) or changed (counterfactual) in the input."""
    recheck_probs: tuple[float, ...] = ()
    """Probabilities of the re-classification over the task's labels then unknown."""

    @property
    def faithful_and_correct(self) -> bool | None:
        return None if self.faithful is None else (self.faithful and self.correct)


@dataclass(frozen=True)
class TrainItem:
    """One training pair: the loss is on ``target`` only (as the classification fine-tuning)."""

    example_id: str
    task: str
    kind: str
    """``attribution``/``redaction``/``counterfactual`` (an explanation) or ``classification``
    or ``replay`` (generic instruction data)."""
    prompt: str
    target: str


@dataclass
class PseudoResult:
    """Pseudo-faithful one-word explanations and what was dropped on the way, by reason."""

    items: list[TrainItem] = field(default_factory=list)
    drops: Counter[str] = field(default_factory=Counter)
    """e.g. ``counterfactual: no substitute flips`` → 12, ``attribution: fails own check`` → 3."""
    chosen: dict[str, dict[str, object]] = field(default_factory=dict)
    """Per example id: the chosen word, its position, its deletion drop, the substitute."""
