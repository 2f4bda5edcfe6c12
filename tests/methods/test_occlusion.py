"""``occlusion`` (leave-one-word-out) against an independent loop that deletes and scores one
word at a time; deduplication and truncation with a scripted backend."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from faithscope.data import load_dataset
from faithscope.errors import ModelError
from faithscope.methods import MethodContext, MethodOptions, RationaleRequest, get_method
from faithscope.tasks import load_task
from faithscope.tasks.fit import PromptBuilder
from faithscope.types import Example, LabelScores


def test_occlusion_equals_one_deletion_at_a_time(backend):
    loaded = load_dataset("demo", n=2, seed=5)
    task = load_task(loaded.task)
    prompts = PromptBuilder(task, backend)
    verbal = prompts.verbalizers()
    ctx = MethodContext(task, backend, prompts, MethodOptions())
    requests = [RationaleRequest(e, lab, max(len(e.rationale), 1), p) for e in loaded.examples
                for lab, p in ((e.label, "alignment"), (task.labels[-1], "faithfulness"))]
    rationales = get_method("occlusion").explain(requests, ctx)
    for r, rat in zip(requests, rationales):
        e = r.example
        full = backend.score_labels([prompts.classification(e).text], verbal)[0].logprob(r.label)
        want = np.array([full - backend.score_labels([prompts.classification(e, frozenset({i})).text], verbal)[0].logprob(r.label)
                         for i in range(e.n_words)])
        got = np.array(rat.scores)
        assert np.abs(got - want).max() <= 1e-4 * max(np.abs(want).max(), 1e-6), (got, want)
        order = sorted(range(e.n_words), key=lambda i: (-want[i], i))[: r.k]
        assert rat.positions == tuple(sorted(order))


class ScriptedBackend:
    """Counts one token per character; scores a prompt by a hash of its text; logs calls."""

    context_window = 10_000

    def __init__(self, finite: bool = True):
        self.calls: list[list[str]] = []
        self.finite = finite

    def count_tokens(self, text: str) -> int:
        return len(text)

    def score_labels(self, texts, verbalizers):
        self.calls.append(list(texts))
        labels = tuple(verbalizers)
        out = []
        for t in texts:
            h = zlib.crc32(t.encode())
            lps = tuple(-((h >> (4 * j)) % 97) / 10.0 - 0.1 for j in range(len(labels)))
            out.append(LabelScores(labels, lps if self.finite else (0.0,) + (float("-inf"),) * (len(labels) - 1),
                                   source="logprobs" if self.finite else "generation"))
        return out


def test_identical_deletions_are_scored_once_in_one_call():
    task = load_task("esnli")
    ex = Example("d", {"premise": ("A", "dog", "the", "the", "cat."), "hypothesis": ("Animals", "play.")}, task.labels[0])
    b = ScriptedBackend()
    ctx = MethodContext(task, b, PromptBuilder(task, b), MethodOptions())
    reqs = [RationaleRequest(ex, task.labels[0], 2, "alignment"), RationaleRequest(ex, task.labels[1], 2, "faithfulness")]
    rats = get_method("occlusion").explain(reqs, ctx)
    assert len(b.calls) == 1  # every deletion of the batch in one backend call
    assert len(b.calls[0]) == len(set(b.calls[0])) == 1 + ex.n_words - 1  # "the"/"the" give one prompt
    assert rats[0].scores[2] == rats[0].scores[3]
    assert all(len(r.positions) == 2 for r in rats)


def test_truncated_words_are_never_deleted_nor_selected():
    task = load_task("esnli")
    ex = Example("t", {"premise": tuple(f"w{i}" for i in range(60)), "hypothesis": ("Short.",)}, task.labels[0])  # e-SNLI cuts the premise
    b = ScriptedBackend()
    prompts = PromptBuilder(task, b, max_length=len(PromptBuilder(task, b).classification(ex).text) - 40)
    fitted = prompts.classification(ex)
    assert fitted.truncated_words > 0
    visible = {g for g, _, _ in fitted.word_spans}
    rat = get_method("occlusion").explain([RationaleRequest(ex, task.labels[0], ex.n_words, "alignment")], MethodContext(task, b, prompts, MethodOptions()))[0]
    assert set(rat.positions) == visible
    assert all(rat.scores[i] == 0.0 for i in range(ex.n_words) if i not in visible)


def test_unscored_label_is_an_error_not_a_number():
    task = load_task("esnli")
    ex = Example("u", {"premise": ("A", "dog."), "hypothesis": ("An", "animal.")}, task.labels[0])
    b = ScriptedBackend(finite=False)
    with pytest.raises(ModelError, match="occlusion needs the log-probability"):
        get_method("occlusion").explain([RationaleRequest(ex, task.labels[1], 1, "alignment")], MethodContext(task, b, PromptBuilder(task, b), MethodOptions()))
