"""``shared_prefix=True`` (issue 13 item 7): the prompts' common token prefix is encoded once
and every batch continues from a copy of its cache. Label scores agree with the plain path
to float32 rounding and greedy replies are identical, on the embedded model with the
counterfactual prompts (whose instruction is the shared prefix)."""

from __future__ import annotations

import pytest

from faithscope.models.hf import MIN_SHARED_PREFIX, common_prefix_length


def test_common_prefix_length_by_hand():
    assert common_prefix_length([[1, 2, 3, 4], [1, 2, 3, 9], [1, 2, 7]]) == 2
    assert common_prefix_length([[1, 2, 3], [1, 2, 3, 4]]) == 2  # every sequence keeps a token of its own
    assert common_prefix_length([[5, 6]]) == 1
    assert common_prefix_length([[1], [2]]) == 0
    assert common_prefix_length([]) == 0


@pytest.fixture(scope="module")
def cf_prompts():
    from faithscope.data import load_dataset
    from faithscope.explanations import SelfExplanationPrompt, load_selfexplain
    from faithscope.tasks import load_task

    task = load_task("demo")
    spec = load_selfexplain(task)
    prompt = SelfExplanationPrompt(spec, task)
    return task, spec, prompt, [prompt.render(e) for e in load_dataset("demo", n=5, seed=3).examples]


def test_shared_prefix_scores_match_the_plain_forward(backend, cf_prompts):
    task, _, _, prompts = cf_prompts
    assert common_prefix_length([backend.encode(p) for p in prompts]) >= MIN_SHARED_PREFIX  # the cached path is taken
    plain = backend.score_labels(prompts, task.verbalizers)
    shared = backend.score_labels(prompts, task.verbalizers, shared_prefix=True)
    for a, b in zip(plain, shared):
        assert a.labels == b.labels and a.predicted == b.predicted
        assert b.logprobs == pytest.approx(a.logprobs, abs=1e-4)
    # each prompt alone (no sharing possible) is the reference the batched paths must meet
    alone = backend.score_labels(prompts[:1], task.verbalizers, shared_prefix=True)[0]
    assert alone.logprobs == pytest.approx(plain[0].logprobs, abs=1e-4)


def test_shared_prefix_generation_is_identical(backend, cf_prompts):
    task, spec, prompt, prompts = cf_prompts
    gen = [prompt.explanation_prompt(p, lab) for p, lab in zip(prompts, ["neutral", "entailment", "contradiction", "neutral", "entailment"])]
    budgets = [12, 6, 12, 9, 12]
    plain = backend.generate(gen, budgets, stop=list(spec.stop))
    assert backend.generate(gen, budgets, stop=list(spec.stop), shared_prefix=True) == plain
    assert any(plain)
