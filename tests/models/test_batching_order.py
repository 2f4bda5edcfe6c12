"""Token-budget batching sorts by length and must hand results back in input order.

Prompts of very different lengths, a budget so small that several batches form (some with
more than one row, in an order that differs from the input order): the batched results must
equal one-at-a-time results, prompt by prompt.
"""

from __future__ import annotations

import numpy as np
import pytest

from faithscope.models.batching import left_pad, plan_batches
from faithscope.models.gradients import CAPTUM_CONVENTION, AttributionConfig, GradientEngine
from faithscope.models.hf import HFBackend

WORDS = "the quick brown fox jumps over the lazy dog near a quiet river bank".split()
# lengths deliberately out of order: short, long, medium, tiny, long, short
PROMPTS = [
    "Claim: cats purr. Label:",
    "Premise and Hypothesis: \"" + " ".join(WORDS * 3) + "\"\n\nLabel:",
    "Premise and Hypothesis: \"" + " ".join(WORDS) + "\"\n\nLabel:",
    "Label:",
    "Claim: " + " ".join(reversed(WORDS * 2)) + " Evidence: \"a dog\" Label:",
    "Evidence: birds fly. Label:",
]
TARGETS = [" supports", " neutral", " entailment", " refutes", " contradiction", " refutes"]  # 1- and 2-token labels
VERBALIZERS = {"entailment": " entailment", "contradiction": " contradiction", "neutral": " neutral"}
BUDGET = 60


def rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-30))


def test_plan_batches_covers_each_index_once_in_sorted_batches():
    lengths = [7, 120, 33, 2, 64, 9, 64, 500]
    batches = plan_batches(lengths, max_tokens=128, max_batch_size=3)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert batches[0] == [7]  # the oversized item alone, first
    for b in batches:
        assert len(b) <= 3 and (len(b) == 1 or len(b) * max(lengths[i] for i in b) <= 128)
        assert [lengths[i] for i in b] == sorted((lengths[i] for i in b), reverse=True)


def test_plan_batches_keeps_short_items_out_of_long_batches():
    # a greedy fill would pad three 100-token items to 1,000 tokens
    lengths = [1000, 100, 100, 100, 990]
    batches = plan_batches(lengths, max_tokens=4096, max_batch_size=8)
    assert [sorted(b) for b in batches] == [[0, 4], [1, 2, 3]]


def test_left_pad_puts_every_sequence_flush_right():
    ids, mask, pos = left_pad([[1, 2], [3, 4, 5, 6], [7]], pad_id=0)
    assert ids.tolist() == [[0, 0, 1, 2], [3, 4, 5, 6], [0, 0, 0, 7]]
    assert pos[0].tolist()[-2:] == [0, 1] and pos[1].tolist() == [0, 1, 2, 3] and pos[2].tolist()[-1] == 0


def _lengths(engine, prompts, targets):
    return [len(engine.tokenizer(p).input_ids) + len(engine.backend.verbalizer_ids(t)) - 1 for p, t in zip(prompts, targets)]


@pytest.fixture(scope="module")
def tiny_engine(backend):
    return GradientEngine(backend, max_batch_tokens=BUDGET, max_batch_size=4)


def test_small_budget_really_reorders(tiny_engine):
    batches = plan_batches(_lengths(tiny_engine, PROMPTS, TARGETS), BUDGET, 4)
    flat = [i for b in batches for i in b]
    assert flat != sorted(flat), "the test needs a plan whose order differs from the input order"
    assert any(len(b) > 1 for b in batches), "the test needs at least one batch with several rows"
    assert len(batches) > 1


@pytest.mark.parametrize("config", [AttributionConfig(), CAPTUM_CONVENTION, AttributionConfig(target="logit", reduction="abs_sum", attention="last_layer")],
                         ids=["paper", "captum", "logit-abs-last"])
def test_attribute_batched_equals_one_at_a_time_in_input_order(tiny_engine, engine, config):
    batched = tiny_engine.attribute(PROMPTS, TARGETS, config)
    assert len(batched) == len(PROMPTS)
    for prompt, target, b in zip(PROMPTS, TARGETS, batched):
        single = engine.attribute([prompt], [target], config)[0]
        assert b.input_ids == tuple(engine.tokenizer(prompt).input_ids) == single.input_ids
        assert b.offsets == single.offsets
        assert len(b.attention) == len(b.saliency) == len(b.input_x_gradient) == len(b.input_ids)
        for field in ("attention", "saliency", "input_x_gradient"):
            assert rel(getattr(b, field), getattr(single, field)) < 1e-4, (prompt, field)
        assert abs(b.target_logprob - single.target_logprob) < 1e-4


def test_score_labels_batched_equals_one_at_a_time_in_input_order(loaded_model, backend):
    tiny = HFBackend(loaded_model, max_batch_tokens=BUDGET, max_batch_size=3)
    lengths = [len(tiny.encode(p)) for p in PROMPTS]
    batches = plan_batches(lengths, BUDGET, 3)
    assert len(batches) > 1 and any(len(b) > 1 for b in batches)
    batched = tiny.score_labels(PROMPTS, VERBALIZERS)
    for prompt, b in zip(PROMPTS, batched):
        single = backend.score_labels([prompt], VERBALIZERS)[0]
        assert b.labels == single.labels
        assert b.tokens == single.tokens
        assert max(abs(x - y) for x, y in zip(b.logprobs, single.logprobs)) < 1e-4, prompt


def test_generation_batches_are_larger_and_give_the_one_at_a_time_replies(loaded_model):
    from faithscope.models.hf import HFBackend

    prompts = ["List three colours:", "The capital of France is", "Premise: a dog runs. Hypothesis: an animal moves. Label:"]
    backend = HFBackend(loaded_model, max_batch_tokens=64, max_batch_size=1)
    assert backend.generation_batch_tokens == 8 * 64 and backend.generation_batch_size == 2
    seen: list[int] = []
    original = loaded_model.model.generate

    def counting(*args, **kwargs):
        seen.append(kwargs["input_ids"].shape[0])
        return original(*args, **kwargs)

    loaded_model.model.generate = counting
    try:
        batched = backend.generate(prompts, 6)
    finally:
        del loaded_model.model.generate
    alone = [HFBackend(loaded_model, generation_batch_size=1).generate([p], 6)[0] for p in prompts]
    assert sorted(seen) == [1, 2]  # two rows in one generation batch although max_batch_size is 1
    assert batched == alone


def test_prompts_with_different_budgets_share_a_batch_and_keep_their_own_length(loaded_model):
    from faithscope.models.hf import HFBackend

    prompts = ["List three colours:", "The capital of France is", "Write a long story about a dog:"]
    budgets = [3, 12, 7]
    backend = HFBackend(loaded_model)
    calls: list[int] = []
    original = loaded_model.model.generate

    def counting(*args, **kwargs):
        calls.append(kwargs["max_new_tokens"])
        return original(*args, **kwargs)

    loaded_model.model.generate = counting
    try:
        shared = backend.generate(prompts, budgets)
    finally:
        del loaded_model.model.generate
    assert calls == [12]  # one batch, run to the largest budget
    alone = [backend.generate([p], b)[0] for p, b in zip(prompts, budgets)]
    assert shared == alone
    assert len(loaded_model.tokenizer(shared[0], add_special_tokens=False).input_ids) <= 3
