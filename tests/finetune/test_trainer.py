"""The LoRA loop: the loss on the label tokens goes down, and a saved adapter reloads through
``ModelSpec(adapter=...)`` / ``load_model`` with the same label scores."""

from __future__ import annotations

import pytest

from faithscope.finetune import resolve_config
from faithscope.finetune.data import build_split
from faithscope.finetune.presets import FinetuneConfig
from faithscope.finetune.trainer import ADAPTER_WEIGHTS, LoraTrainer, adapter_dir, encode, lr_at
from faithscope.models.hf import HFBackend
from faithscope.tasks.fit import PromptBuilder


def tiny_config(train_file, tmp_path, **kw) -> FinetuneConfig:
    values = dict(train_file=str(train_file), train_n=8, eval_n=2, epochs=2, lr=2e-3, batch_size=4, grad_accum=2, warmup_steps=1,
                  lora_r=4, lora_alpha=8.0, lora_dropout=0.0, lora_layers=2, methods=("input_x_gradient", "all-words"),
                  output_dir=str(tmp_path / "ft"), progress=False)
    values.update(kw)
    return resolve_config("cpu", "demo", **values)


def test_lr_schedule_warms_up_then_decays_linearly():
    c = FinetuneConfig(lr=1e-3, warmup_steps=4, epochs=1)
    lrs = [lr_at(s, c, 10) for s in range(10)]
    assert lrs[:4] == pytest.approx([2.5e-4, 5e-4, 7.5e-4, 1e-3])
    assert lrs[4] == pytest.approx(1e-3) and lrs[9] == pytest.approx(1e-3 / 6)
    assert all(a >= b for a, b in zip(lrs[3:], lrs[4:]))
    assert lr_at(7, FinetuneConfig(lr=1e-3, warmup_steps=2, schedule="constant"), 10) == 1e-3


def test_frozen_layer_cache_gives_the_same_loss_and_gradients(fresh_model, train_file, tmp_path):
    import torch

    config = tiny_config(train_file, tmp_path, lora_layers=3, train_n=3)
    split = build_split(config)
    backend = HFBackend(fresh_model, max_batch_size=8)
    items = encode(split.train, PromptBuilder(split.task, backend), backend)
    trainer = LoraTrainer(fresh_model, config, steps_per_epoch=1)
    assert trainer.use_cache and trainer.first_adapted == fresh_model.model.config.num_hidden_layers - 3
    torch.manual_seed(1)
    for p in trainer.params:
        p.data.normal_(0, 0.02)
    results = []
    for cached in (True, False):
        trainer.use_cache = cached
        trainer.optimizer.zero_grad()
        loss = trainer.example_losses(items)
        loss.sum().backward()
        results.append((loss.detach(), [p.grad.clone() for p in trainer.params]))
    assert torch.allclose(results[0][0], results[1][0], atol=1e-5)
    for a, b in zip(results[0][1], results[1][1]):
        assert torch.allclose(a, b, atol=1e-5)


def test_loss_goes_down_and_adapter_reloads_with_same_scores(fresh_model, train_file, tmp_path):
    import torch

    from faithscope.models.loading import ModelSpec, load_model

    config = tiny_config(train_file, tmp_path)
    split = build_split(config)
    backend = HFBackend(fresh_model, max_batch_size=8)
    prompts = PromptBuilder(split.task, backend)
    items = encode(split.train, prompts, backend)
    assert all(len(it.label) >= 1 for it in items) and len(items) == 8
    trainer = LoraTrainer(fresh_model, config, steps_per_epoch=2)
    # LoRA starts as the identity: B = 0, so the first loss is the pre-trained model's
    before = trainer.mean_loss(items)
    for epoch in (1, 2, 3):
        stats = trainer.train_epoch(items, epoch)
        assert stats["steps"] == 2
    after = trainer.mean_loss(items)
    assert after < before - 0.1, (before, after)

    out = tmp_path / "ft"
    saved = trainer.save(out, 1)
    assert saved == adapter_dir(out, 1) and (saved / ADAPTER_WEIGHTS).is_file()
    assert not list(saved.glob("*.bin")) and not list((out / "training_state").glob("*.pt"))

    texts = [prompts.classification(e).text for e in split.evaluation + split.train[:2]]
    with trainer.frozen():
        in_memory = HFBackend(type(fresh_model)(trainer.model, fresh_model.tokenizer, fresh_model.spec, fresh_model.identity,
                                                fresh_model.context_window, fresh_model.stop_token_ids)).score_labels(texts, prompts.verbalizers())
    reloaded_model = load_model(ModelSpec(adapter=str(saved)))
    assert reloaded_model.identity["adapter"] == str(saved.resolve())
    reloaded = HFBackend(reloaded_model).score_labels(texts, prompts.verbalizers())
    for a, b in zip(in_memory, reloaded):
        assert a.predicted == b.predicted
        assert torch.allclose(torch.tensor(a.logprobs), torch.tensor(b.logprobs), atol=2e-3), (a.logprobs, b.logprobs)

    # the adapter also drives an ordinary `faithscope run` (what --adapter DIR does)
    from faithscope.runs.config import RunConfig
    from faithscope.runs.runner import run

    result = run(RunConfig(dataset="demo", n=2, methods=("all-words",), model=ModelSpec(adapter=str(saved)), output_dir=str(tmp_path / "run"),
                           progress=False), loaded_model=reloaded_model)
    assert result.store.get_meta("model_identity")["adapter_sha256"] == reloaded_model.identity["adapter_sha256"]
    assert len(result.store.predictions()) == 2
    result.store.close()

    # optimizer state round-trips (no pickle) and training continues from the same step
    step = trainer.step
    trainer.restore(out, 1)
    assert trainer.step == step
