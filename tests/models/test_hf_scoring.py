"""Label scoring: batched, left-padded, multi-token verbalizers == direct transformers, one at a time."""

from __future__ import annotations

import torch

from faithscope.models.batching import left_pad, plan_batches

VERBALIZERS = {"entailment": " entailment", "contradiction": " contradiction", "neutral": " neutral"}
PROMPTS = [
    'Premise and Hypothesis: "A man sleeps on a couch. A man is awake."\n\nLabel:',
    "Label:",
    'Premise and Hypothesis: "Two dogs run across a big green field near the old river. Animals are outside."\n\nDetermine the relation. Label:',
]


def direct_logprob(model, tokenizer, prompt: str, verbalizer: str) -> float:
    """Independent reference: one sequence, no padding, no cache, full logits."""
    ids = tokenizer(prompt).input_ids
    target = tokenizer(verbalizer, add_special_tokens=False).input_ids
    with torch.no_grad():
        logits = model(torch.tensor([ids + target])).logits[0]
    logp = torch.log_softmax(logits.float(), dim=-1)
    return float(sum(logp[len(ids) - 1 + t, tok] for t, tok in enumerate(target)))


def test_entailment_is_two_tokens(backend):
    assert len(backend.verbalizer_ids(" entailment")) == 2
    assert len(backend.verbalizer_ids(" neutral")) == 1


def test_batched_multi_token_scores_equal_direct(backend, loaded_model):
    scores = backend.score_labels(PROMPTS, VERBALIZERS)
    assert len({len(loaded_model.tokenizer(p).input_ids) for p in PROMPTS}) == 3  # really padded
    for prompt, s in zip(PROMPTS, scores):
        assert s.labels == tuple(VERBALIZERS)
        assert s.tokens["entailment"] == tuple(loaded_model.tokenizer(" entailment", add_special_tokens=False).input_ids)
        for label, verbalizer in VERBALIZERS.items():
            ref = direct_logprob(loaded_model.model, loaded_model.tokenizer, prompt, verbalizer)
            assert abs(s.logprob(label) - ref) < 1e-3, (prompt, label, s.logprob(label), ref)


def test_predicted_label_and_probs(backend):
    s = backend.score_labels(PROMPTS[:1], VERBALIZERS)[0]
    assert abs(sum(s.probs) - 1) < 1e-9
    assert s.predicted == s.labels[max(range(3), key=lambda i: s.logprobs[i])]


def test_generation_batched_equals_single(backend):
    batched = backend.generate(PROMPTS, 8)
    single = [backend.generate([p], 8)[0] for p in PROMPTS]
    assert batched == single
    assert all(isinstance(x, str) for x in batched)


def test_plan_batches_respects_budget_and_covers_all():
    lengths = [5, 100, 30, 100, 7, 64, 1]
    batches = plan_batches(lengths, max_tokens=128, max_batch_size=3)
    flat = sorted(i for b in batches for i in b)
    assert flat == list(range(len(lengths)))
    for b in batches:
        assert len(b) <= 3
        assert len(b) == 1 or len(b) * max(lengths[i] for i in b) <= 128
    assert batches[0] == [1] and batches[1] == [3]  # longest first, ties by index


def test_plan_batches_oversized_item_alone():
    assert plan_batches([500, 2], max_tokens=100) == [[0], [1]]


def test_left_pad_positions():
    ids, mask, pos = left_pad([[7, 8, 9], [5]], pad_id=0)
    assert ids.tolist() == [[7, 8, 9], [0, 0, 5]]
    assert mask.tolist() == [[1, 1, 1], [0, 0, 1]]
    assert pos.tolist() == [[0, 1, 2], [0, 0, 0]]
