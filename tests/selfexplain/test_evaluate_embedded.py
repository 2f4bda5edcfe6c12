"""evaluate_styles on the embedded model: 3 demo examples × 3 styles in one generate call and
one score call for every recheck prompt."""

from __future__ import annotations

from dataclasses import replace

from faithscope.data import load_dataset
from faithscope.selfexplain import STYLES
from faithscope.selfexplain.checks import predict
from faithscope.selfexplain.evaluate import evaluate_styles
from faithscope.selfexplain.tasks import task_spec


class Counting:
    """The real backend, counting its generate and score_labels calls."""

    def __init__(self, inner):
        self.inner = inner
        self.generate_calls: list[list[str]] = []
        self.score_calls: list[list[str]] = []

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def generate(self, prompts, max_new_tokens, stop=None):
        self.generate_calls.append(list(prompts))
        return self.inner.generate(prompts, max_new_tokens, stop=stop)

    def score_labels(self, prompts, verbalizers):
        self.score_calls.append(list(prompts))
        return self.inner.score_labels(prompts, verbalizers)


def test_evaluate_styles_batches_one_generate_and_one_score_call(backend):
    # short budgets keep the test cheap on a shared CPU; the batching under test does not depend on them
    spec = replace(task_spec("demo"), max_new_tokens={"attribution": 8, "redaction": 12, "counterfactual": 12})
    examples = load_dataset("demo").examples[:3]
    counting = Counting(backend)
    predictions = predict(counting, spec, examples)
    assert len(counting.score_calls) == 1
    counting.score_calls.clear()
    rows = evaluate_styles(counting, spec, examples, STYLES, "one", seed=0, predictions=predictions)
    assert len(counting.generate_calls) == 1 and len(counting.generate_calls[0]) == 9
    assert len(counting.score_calls) == (1 if any(r.failure is None for r in rows) else 0)  # none if all unusable
    assert len(rows) == 9 and [r.style for r in rows] == [s for s in STYLES for _ in examples]
    for r in rows:
        assert r.predicted == predictions[r.example_id].predicted and r.predicted in spec.task.labels
        assert (r.failure is None) == (r.faithful is not None) == (r.recheck is not None)
        assert r.correct == (r.predicted == next(e.label for e in examples if e.id == r.example_id))
        if r.style == "counterfactual":
            assert r.target in spec.task.labels and r.target != next(e.label for e in examples if e.id == r.example_id)
    if counting.score_calls:
        scored = counting.score_calls[0]
        assert len(scored) == len(set(scored))  # deduplicated
        assert len(scored) <= sum(r.failure is None for r in rows)
