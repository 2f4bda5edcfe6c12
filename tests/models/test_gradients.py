"""The one-pass attribution engine against independent computations.

- paper convention (probability target, L2 norm; attention mean over layers and heads) vs a
  direct autograd computation and eager attention written here;
- batched == one at a time;
- the `captum` convention vs Captum's own LLMGradientAttribution(LayerGradientXActivation).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from faithscope.models.gradients import CAPTUM_CONVENTION, AttributionConfig

PROMPTS = [
    'Premise and Hypothesis: "A man sleeps on a couch. A man is awake."\n\nLabel:',
    'Claim: Mount Hood is in the Pyrenees. Evidence: "Mount Hood is a volcano in Oregon ."\n\nLabel:',
    'Premise and Hypothesis: "Two dogs run across a big green field. Animals are outside."\n\nLabel:',
]
TARGETS = [" entailment", " refutes", " neutral"]  # two-token, two-token, one-token


def rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a - b).max() / np.abs(b).max())


def reference(model, tokenizer, prompt, target):
    """Direct autograd on one unpadded sequence with eager attention."""
    ids = tokenizer(prompt).input_ids
    tgt = tokenizer(target, add_special_tokens=False).input_ids
    full = torch.tensor([ids + tgt])
    emb = model.get_input_embeddings()(full).detach().requires_grad_(True)
    impl = model.config._attn_implementation
    model.set_attn_implementation("eager")
    try:
        with torch.enable_grad():
            out = model(inputs_embeds=emb, output_attentions=True)
            logp = torch.log_softmax(out.logits[0].float(), dim=-1)
            seq = sum(logp[len(ids) - 1 + t, tok] for t, tok in enumerate(tgt))
            (grad,) = torch.autograd.grad(seq.exp(), emb)
    finally:
        model.set_attn_implementation(impl)
    att = torch.stack(out.attentions)[:, 0, :, len(ids) - 1, : len(ids)].mean(dim=(0, 1)).detach().numpy()
    g = grad[0, : len(ids)]
    return att, g.norm(dim=-1).numpy(), (g * emb[0, : len(ids)]).norm(dim=-1).detach().numpy(), float(seq.detach())


def test_paper_convention_matches_direct_autograd(engine, loaded_model):
    results = engine.attribute(PROMPTS, TARGETS, AttributionConfig())
    for prompt, target, r in zip(PROMPTS, TARGETS, results):
        att, sal, ixg, lp = reference(loaded_model.model, loaded_model.tokenizer, prompt, target)
        assert rel(r.attention, att) < 1e-4
        assert rel(r.saliency, sal) < 1e-3
        assert rel(r.input_x_gradient, ixg) < 1e-3
        assert abs(r.target_logprob - lp) < 1e-3
        assert np.all(r.saliency >= 0)  # L2 norms


def test_batched_equals_one_at_a_time(engine):
    for config in (AttributionConfig(), CAPTUM_CONVENTION):
        batched = engine.attribute(PROMPTS, TARGETS, config)
        for p, t, b in zip(PROMPTS, TARGETS, batched):
            single = engine.attribute([p], [t], config)[0]
            assert b.input_ids == single.input_ids
            for field in ("attention", "saliency", "input_x_gradient"):
                assert rel(getattr(b, field), getattr(single, field)) < 1e-3, field


def test_signed_convention_keeps_sign(engine):
    r = engine.attribute(PROMPTS[:1], TARGETS[:1], CAPTUM_CONVENTION)[0]
    assert (r.input_x_gradient < 0).any() and (r.input_x_gradient > 0).any()


def test_captum_convention_matches_captum(engine, loaded_model):
    captum_attr = pytest.importorskip("captum.attr")
    model, tok = loaded_model.model, loaded_model.tokenizer
    lga = captum_attr.LLMGradientAttribution(captum_attr.LayerGradientXActivation(model, model.get_input_embeddings()), tok)
    ours = engine.attribute(PROMPTS, TARGETS, CAPTUM_CONVENTION)
    for prompt, target, r in zip(PROMPTS, TARGETS, ours):
        inp = captum_attr.TextTokenInput(prompt, tok)
        target_ids = torch.tensor(tok(target, add_special_tokens=False).input_ids)
        res = lga.attribute(inp, target=target_ids)
        theirs = res.seq_attr.detach().float().numpy()
        assert theirs.shape == r.input_x_gradient.shape
        assert rel(r.input_x_gradient, theirs) <= 1e-4, (prompt, rel(r.input_x_gradient, theirs))


def test_trimmed_last_layer_changes_no_score(engine, monkeypatch):
    """The last layer computed at the answer positions only == the whole layer computed."""
    import contextlib

    from faithscope.models import gradients

    cases = [(PROMPTS, TARGETS), (PROMPTS[:1], TARGETS[:1]), (PROMPTS[2:], TARGETS[2:])]  # padded batch; single rows: no mask
    trimmed = [engine.attribute(p, t, AttributionConfig()) for p, t in cases]
    monkeypatch.setattr(gradients, "trim_last_layer", lambda decoder, last: contextlib.nullcontext(None))
    full = [engine.attribute(p, t, AttributionConfig()) for p, t in cases]
    for got, want in zip(trimmed, full):
        for a, b in zip(got, want):
            assert rel(a.attention, b.attention) < 1e-6
            assert rel(a.saliency, b.saliency) < 1e-5
            assert rel(a.input_x_gradient, b.input_x_gradient) < 1e-5
            assert abs(a.target_logprob - b.target_logprob) < 1e-5


def test_last_layer_mlp_sees_only_answer_positions(engine):
    """The trim really happens: the last MLP gets the answer positions, not the whole prompt."""
    seen: list[int] = []
    layer = engine.decoder.layers[-1]
    # inside the MLP (its own pre-hooks run in registration order, before faithscope's)
    handle = layer.mlp.down_proj.register_forward_pre_hook(lambda _m, args: seen.append(args[0].shape[1]))
    try:
        engine.attribute(PROMPTS[:1], [" entailment"], AttributionConfig())  # two label tokens: 2 answer positions
    finally:
        handle.remove()
    assert seen == [2]


# -- Integrated Gradients ------------------------------------------------------------------

class _ZeroForBaselineId(torch.nn.Module):
    """The model's embedding layer, plus one id past the vocabulary whose embedding is zero.

    Captum's LLM attribution takes its baseline as a token id; this id makes Captum's
    ``LayerIntegratedGradients`` interpolate from the zero embedding, faithscope's baseline."""

    def __init__(self, embed: torch.nn.Embedding):
        super().__init__()
        self.embed, self.baseline_id = embed, embed.num_embeddings

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        keep = ids < self.baseline_id
        return self.embed(torch.where(keep, ids, torch.zeros_like(ids))) * keep[..., None].to(self.embed.weight.dtype)


def captum_ig(model, tok, prompt: str, target: str, steps: int) -> np.ndarray:
    """Captum's LayerIntegratedGradients on the embedding layer (log-prob target, signed sum)."""
    captum_attr = pytest.importorskip("captum.attr")
    original = model.get_input_embeddings()
    wrapped = _ZeroForBaselineId(original)
    model.set_input_embeddings(wrapped)
    try:
        lig = captum_attr.LLMGradientAttribution(captum_attr.LayerIntegratedGradients(model, wrapped), tok)
        inp = captum_attr.TextTokenInput(prompt, tok, baselines=wrapped.baseline_id)
        target_ids = torch.tensor(tok(target, add_special_tokens=False).input_ids)
        res = lig.attribute(inp, target=target_ids, n_steps=steps, method="gausslegendre")
    finally:
        model.set_input_embeddings(original)
    return res.seq_attr.detach().double().numpy()


def test_ig_captum_convention_matches_captum_layer_integrated_gradients(engine, loaded_model):
    from faithscope.models.gradients import IGConfig

    model, tok = loaded_model.model, loaded_model.tokenizer
    ours = engine.integrated_gradients(PROMPTS[:2], TARGETS[:2], CAPTUM_CONVENTION, IGConfig(steps=8))
    for prompt, target, r in zip(PROMPTS[:2], TARGETS[:2], ours):
        theirs = captum_ig(model, tok, prompt, target, steps=8)
        assert theirs.shape == r.scores.shape
        assert rel(r.scores, theirs) <= 1e-4, (prompt, rel(r.scores, theirs))
