"""``integrated_gradients`` against a direct IG computation written here (paper convention:
probability target, L2 norm), and its batching over steps; the Captum convention against
Captum's LayerIntegratedGradients is in tests/models/test_gradients.py."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from faithscope.data import load_dataset
from faithscope.errors import ConfigError
from faithscope.methods import MethodContext, MethodOptions, RationaleRequest, get_method
from faithscope.methods.word_scores import aggregate, token_to_word, top_k
from faithscope.models.gradients import GradientEngine, IGConfig, ig_nodes
from faithscope.runs.config import RunConfig
from faithscope.tasks import load_task
from faithscope.tasks.fit import PromptBuilder

STEPS = 6


def direct_ig(model, tokenizer, prompt: str, target: str, steps: int) -> np.ndarray:
    """One unpadded sequence, one step at a time: x * sum_s w_s dP/dx(alpha_s x), L2 norm."""
    ids = tokenizer(prompt).input_ids
    tgt = tokenizer(target, add_special_tokens=False).input_ids
    full = torch.tensor([ids + tgt])
    x = model.get_input_embeddings()(full).detach()
    nodes, weights = np.polynomial.legendre.leggauss(steps)
    total = torch.zeros_like(x[0, : len(ids)], dtype=torch.float64)
    for node, weight in zip(nodes, weights):
        alpha = 0.5 * (node + 1.0)
        scaled = x.clone()
        scaled[0, : len(ids)] *= alpha  # zero baseline; label tokens stay
        scaled.requires_grad_(True)
        with torch.enable_grad():
            logp = torch.log_softmax(model(inputs_embeds=scaled).logits[0].float(), dim=-1)
            prob = sum(logp[len(ids) - 1 + t, tok] for t, tok in enumerate(tgt)).exp()
            (grad,) = torch.autograd.grad(prob, scaled)
        total += 0.5 * weight * grad[0, : len(ids)].double()
    return (x[0, : len(ids)].double() * total).norm(dim=-1).numpy()


@pytest.fixture(scope="module")
def demo():
    loaded = load_dataset("demo", n=2, seed=3)
    return loaded.examples, load_task(loaded.task)


@pytest.mark.slow  # ~100 s on 2 cores: a one-step-at-a-time IG loop; the Captum equivalence test stays in the default suite
def test_method_equals_direct_ig_in_the_paper_convention(backend, loaded_model, demo):
    examples, task = demo
    prompts = PromptBuilder(task, backend)
    ctx = MethodContext(task, backend, prompts, MethodOptions(ig_steps=STEPS))
    verbal = prompts.verbalizers()
    requests = [RationaleRequest(e, e.label, max(len(e.rationale), 1), "alignment") for e in examples]
    rationales = get_method("integrated_gradients").explain(requests, ctx)
    for r, rat in zip(requests, rationales):
        fitted = prompts.attribution(r.example)
        ref = direct_ig(loaded_model.model, loaded_model.tokenizer, fitted.text, verbal[r.label], STEPS)
        enc = loaded_model.tokenizer(fitted.text, return_offsets_mapping=True)
        want = aggregate(ref, token_to_word(enc.offset_mapping, fitted.word_spans), r.example.n_words)
        got = np.array(rat.scores)
        assert np.abs(got - want).max() / np.abs(want).max() < 1e-3
        assert rat.positions == top_k(want, r.k)
        assert len(rat.positions) == r.k and rat.method == "integrated_gradients"


def test_steps_split_over_several_passes_give_the_same_scores(backend, demo):
    examples, task = demo
    prompts = PromptBuilder(task, backend)
    texts = [prompts.attribution(e).text for e in examples]
    targets = [prompts.verbalizers()[e.label] for e in examples]
    one_pass = GradientEngine(backend, max_batch_tokens=100_000, max_batch_size=64).integrated_gradients(texts, targets, ig=IGConfig(steps=STEPS))
    small = GradientEngine(backend, max_batch_tokens=len(backend.encode(texts[0])) * 2 + 8, max_batch_size=64)
    several = small.integrated_gradients(texts, targets, ig=IGConfig(steps=STEPS))
    for a, b in zip(one_pass, several):
        assert a.input_ids == b.input_ids
        assert np.abs(a.scores - b.scores).max() / np.abs(b.scores).max() < 1e-4


def test_ig_nodes_are_captums_gauss_legendre_rule():
    captum_methods = pytest.importorskip("captum.attr._utils.approximation_methods")
    sizes, alphas = captum_methods.approximation_parameters("gausslegendre")
    for steps in (1, 7, 20):
        a, w = ig_nodes(steps)
        assert np.allclose(a, alphas(steps)) and np.allclose(w, sizes(steps))
        assert abs(w.sum() - 1.0) < 1e-12


def test_bad_ig_steps_are_config_errors():
    with pytest.raises(ConfigError, match="ig-steps"):
        RunConfig(ig_steps=0)
    with pytest.raises(ConfigError, match="ig-steps"):
        IGConfig(steps=0)
    assert MethodOptions(ig_steps=7).as_dict()["integrated_gradients"] == {"steps": 7, "rule": "gausslegendre", "baseline": "zero"}
