"""The second view of a self-explanation: delete the words it points at (Fayyaz et al.'s
faithfulness measures) and compare with deleting as many random words.

The explained words of a row, as positions of the ORIGINAL example:

* attribution — every occurrence of the listed words in all fields (what the check redacted);
* redaction — the edit-field words the reply's markers cover (:func:`.edits.redaction_positions`);
* counterfactual — the edit-field words the rewrite replaced or deleted
  (:func:`.edits.changed_positions`; a rewrite that only inserts words explains no word).

Those words are deleted (the masking convention of the faithfulness tables) and the classify
prompt is scored; the prediction is the forced choice over the task's labels. ``flip`` = it
differs from the row's original prediction; ``prob_drop`` = p(predicted | original) − p(predicted
| deleted), both renormalised over the task's labels. The baseline deletes as many random
words, ``draws`` seeded draws per row (generator seeded by seed, example id, style, mode),
averaged. All prompts (originals, deletions, random deletions) are deduplicated and scored in
ONE ``score_labels`` call. Rows with an unusable reply or no explained word get ``None``s.
"""

from __future__ import annotations

import random
from typing import Any, Sequence

from ..models.base import Backend
from ..types import Example, LabelScores
from .checks import score_prompts
from .edits import changed_positions, delete_positions, matching_positions, redaction_positions
from .spec import SelfConsistencySpec
from .types import CheckRow


def explained_positions(spec: SelfConsistencySpec, example: Example, row: CheckRow) -> tuple[int, ...]:
    """Global positions of the original words ``row``'s explanation points at (empty if none)."""
    if row.failure is not None or not row.explanation:
        return ()
    if row.style == "attribution":
        return matching_positions(example, row.explanation.split(" | "))
    offset = example.field_offsets()[spec.edit_field]
    original = example.fields[spec.edit_field]
    rewrite = row.explanation.split()
    if row.style == "redaction":
        covered = redaction_positions(original, rewrite, spec.marker) or ()
        return tuple(offset + i for i in covered)
    return tuple(offset + i for i in changed_positions(original, rewrite))


def _prob(scores: LabelScores, labels: Sequence[str], label: str) -> tuple[float, str]:
    """(renormalised probability of ``label`` over ``labels``, forced-choice prediction)."""
    import math

    lps = [scores.logprob(lab) for lab in labels]
    m = max(lps)
    ex = [math.exp(lp - m) for lp in lps]
    total = sum(ex)
    best = max(range(len(labels)), key=lambda i: (lps[i], -i))
    return ex[labels.index(label)] / total, labels[best]


def explained_word_faithfulness(backend: Backend, spec: SelfConsistencySpec, examples: Sequence[Example],
                                rows: Sequence[CheckRow], *, seed: int = 0, draws: int = 10) -> list[dict[str, Any]]:
    """Per row: flip and probability drop deleting the explained words vs as many random words."""
    by_id = {e.id: e for e in examples}
    labels = spec.task.labels
    plans: list[tuple[CheckRow, Example, tuple[int, ...], list[tuple[int, ...]]]] = []
    prompts: list[str] = []
    for row in rows:
        example = by_id[row.example_id]
        positions = explained_positions(spec, example, row)
        randoms: list[tuple[int, ...]] = []
        if positions:
            rng = random.Random(f"{seed}:{row.example_id}:{row.style}:{row.mode}")
            randoms = [tuple(sorted(rng.sample(range(example.n_words), len(positions)))) for _ in range(draws)]
            prompts.append(spec.classify_prompt(example))
            prompts.extend(spec.classify_prompt(delete_positions(example, p)) for p in [positions, *randoms])
        plans.append((row, example, positions, randoms))
    scores = score_prompts(backend, spec, prompts)
    out: list[dict[str, Any]] = []
    for row, example, positions, randoms in plans:
        rec: dict[str, Any] = {"example_id": row.example_id, "task": row.task, "style": row.style, "mode": row.mode,
                               "n_words": len(positions), "flip": None, "prob_drop": None,
                               "random_flip": None, "random_prob_drop": None}
        if positions:
            p0, _ = _prob(scores[spec.classify_prompt(example)], labels, row.predicted)

            def effect(pos: tuple[int, ...]) -> tuple[bool, float]:
                p, pred = _prob(scores[spec.classify_prompt(delete_positions(example, pos))], labels, row.predicted)
                return pred != row.predicted, p0 - p

            flip, drop = effect(positions)
            rand = [effect(p) for p in randoms]
            rec.update(flip=flip, prob_drop=drop,
                       random_flip=sum(f for f, _ in rand) / len(rand) if rand else None,
                       random_prob_drop=sum(d for _, d in rand) / len(rand) if rand else None)
        out.append(rec)
    return out
