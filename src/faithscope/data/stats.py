"""Dataset statistics that reports reuse; first of all the analytic random baseline.

For one example with ``k`` human rationale words among ``n`` selectable words, a uniformly
random set of ``k`` words hits ``k*k/n`` human words on average. Pooled over examples (micro
F1, where predicted and gold totals are both ``sum k``) the expected F1 is
``(sum k^2/n) / (sum k)``; per example the expected precision = recall = F1 is ``k/n``. The
paper's random row (e-SNLI 26.54, FEVER 33.90, MedicalBios 21.97) matches the micro figure.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from ..types import Example


def random_baseline_expectation(
    examples: Iterable[Example], fields: Sequence[str] | None = None
) -> tuple[float, float]:
    """Expected ``(micro, macro)`` F1 x 100 of picking ``k = |human rationale|`` random words.

    ``fields`` limits the selectable words (and the human words counted) to those fields, e.g.
    ``("evidence",)`` for FEVER evidence-only; default: all input fields. Macro averages
    ``k/n`` over examples with ``k > 0``: an empty human rationale has no defined F1 and adds
    nothing to the micro sums either. Returns ``(0.0, 0.0)`` when no example has ``k > 0``.
    """
    sum_k = 0
    sum_k2_over_n = 0.0
    per_example: list[float] = []
    for ex in examples:
        if fields is None:
            n, k = ex.n_words, len(ex.rationale)
        else:
            offsets = ex.field_offsets()
            allowed: set[int] = set()
            for name in fields:
                allowed.update(range(offsets[name], offsets[name] + len(ex.fields[name])))
            n, k = len(allowed), len(ex.rationale & allowed)
        if k == 0 or n == 0:
            continue
        sum_k += k
        sum_k2_over_n += k * k / n
        per_example.append(k / n)
    if sum_k == 0:
        return 0.0, 0.0
    return 100 * sum_k2_over_n / sum_k, 100 * sum(per_example) / len(per_example)
