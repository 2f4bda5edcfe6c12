"""The continual-learning mix, the tokenisation boundary, training and resume after a kill."""

from __future__ import annotations

import copy
import dataclasses
import gc
from collections import Counter

import pytest

from faithscope.data import load_dataset
from faithscope.errors import ConfigError
from faithscope.selfexplain import load_self_consistency
from faithscope.selfexplain.presets import PRESETS, TrainSettings, preset
from faithscope.selfexplain.training import (STATE_FILE, encode_item, replay_items, replay_pairs, train_selfexplain, training_log,
                                             training_mix)
from faithscope.selfexplain.types import PseudoResult, TrainItem
from faithscope.tasks import load_task

SPEC = load_self_consistency(load_task("demo"))
DEMO = load_dataset("demo").examples


def _pseudo(n: int) -> PseudoResult:
    res = PseudoResult()
    for e in DEMO[:n]:
        res.items.append(TrainItem(e.id, "demo", "attribution", SPEC.explain_prompt("attribution", "one", e, e.label), " " + e.words[1]))
    return res


def test_replay_file_is_ours_and_cycles_seeded():
    pairs = replay_pairs()
    assert len(pairs) == 30 and all(p.instruction and p.answer for p in pairs)
    a, b = replay_items(35, seed=1), replay_items(35, seed=1)
    assert a == b and len(a) == 35 and len({it.example_id for it in a}) == 35
    assert Counter(it.prompt for it in a).most_common(1)[0][1] == 2  # 30 distinct, 5 of them twice
    assert a[0].prompt.endswith("\n\nAnswer:") and a[0].target.startswith(" ")
    assert replay_items(0) == []


def test_training_mix_takes_the_classification_share_and_gold_verbalizers():
    pseudo = _pseudo(4)
    cls = [(SPEC, e) for e in DEMO[10:30]]
    mix = training_mix(pseudo, cls, replay=3, seed=0, classification_share=0.5)
    kinds = Counter(it.kind for it in mix)
    assert kinds == {"attribution": 4, "classification": 4, "replay": 3}
    for it in mix:
        if it.kind == "classification":
            e = next(x for x in DEMO if x.id == it.example_id)
            assert it.prompt == SPEC.classify_prompt(e) and it.target == SPEC.task.verbalizer(e.label)
    assert len([it for it in training_mix(pseudo, cls) if it.kind == "classification"]) == 20  # no share: all
    assert mix == training_mix(pseudo, cls, replay=3, seed=0, classification_share=0.5)
    assert [it.example_id for it in mix if it.kind == "classification"] != \
        [it.example_id for it in training_mix(pseudo, cls, replay=3, seed=1, classification_share=0.5) if it.kind == "classification"]
    with pytest.raises(ConfigError, match="classification_share"):
        training_mix(pseudo, cls, classification_share=1.0)
    with pytest.raises(ConfigError, match="replay"):
        training_mix(pseudo, cls, replay=-1)


def test_presets_validate_and_mark_the_paper_guesses():
    assert preset("cpu") is PRESETS["cpu"] and PRESETS["paper"].lora_layers is None
    with pytest.raises(ConfigError, match="preset"):
        preset("gpu")
    with pytest.raises(ConfigError, match="classification_share"):
        TrainSettings(classification_share=1.5)
    with pytest.raises(ConfigError, match="unknown training setting"):
        PRESETS["cpu"].with_overrides(learning_rate=1)
    cfg = PRESETS["cpu"].with_overrides(epochs=3).finetune_config()
    assert (cfg.epochs, cfg.lr, cfg.lora_layers) == (3, PRESETS["cpu"].lr, 4)
    import inspect

    import faithscope.selfexplain.presets as mod
    assert inspect.getsource(mod).count("# guess") >= 6


@pytest.mark.parametrize("prompt,target,suffix", [
    (SPEC.explain_prompt("attribution", "one", DEMO[0], "entailment"), " walking", "\n"),
    (SPEC.explain_prompt("redaction", "one", DEMO[0], "entailment"), " A person is [REDACTED] with an animal.", "\n"),
    (SPEC.classify_prompt(DEMO[1]), " contradiction", "\n"),
    ("Say hel", "lo world", ""),  # "hel" + "lo" merge into one token across the boundary
])
def test_prompt_and_target_ids_concatenate_to_the_whole_texts_tokens(loaded_model, prompt, target, suffix):
    tok = loaded_model.tokenizer
    enc = encode_item(tok, prompt, target, suffix)
    assert list(enc.prompt) + list(enc.label) == list(tok(prompt + target + suffix).input_ids)
    assert enc.label and tok.decode(list(enc.label)).endswith(target.strip() + suffix)
    if not prompt.endswith("hel"):
        assert list(enc.prompt) == list(tok(prompt).input_ids)  # no straddling token: the prompt's own ids


def _fresh(loaded_model):
    return dataclasses.replace(loaded_model, model=copy.deepcopy(loaded_model.model))


TINY = TrainSettings(lr=2e-3, epochs=3, batch_size=3, lora_r=8, lora_alpha=16.0, lora_layers=1, warmup_steps=1, replay=0)


def test_training_loss_goes_down_on_a_tiny_mix(loaded_model, tmp_path):
    mix = training_mix(_pseudo(3), [(SPEC, e) for e in DEMO[10:13]])
    paths = train_selfexplain(_fresh(loaded_model), mix, TINY, tmp_path, progress=False)
    assert paths == [tmp_path / "adapters" / f"epoch_{e}" for e in (1, 2, 3)]
    assert all((p / "adapter_model.safetensors").is_file() for p in paths)
    log = training_log(tmp_path)
    losses = [log[str(e)]["eval_loss"] for e in range(4)]  # "0": before training (eval mode, all items)
    assert losses == sorted(losses, reverse=True) and losses[3] < 0.85 * losses[0], losses
    gc.collect()


def test_resume_after_a_kill_gives_the_uninterrupted_weights(loaded_model, tmp_path):
    from safetensors.torch import load_file

    mix = training_mix(_pseudo(3), [(SPEC, e) for e in DEMO[10:13]])
    settings = dataclasses.replace(TINY, epochs=2)
    whole = train_selfexplain(_fresh(loaded_model), mix, settings, tmp_path / "whole", progress=False, eval_loss=False)

    class Killed(Exception):
        pass

    def kill(epoch):
        if epoch == 1:
            raise Killed

    with pytest.raises(Killed):
        train_selfexplain(_fresh(loaded_model), mix, settings, tmp_path / "cut", progress=False, eval_loss=False, hook=kill)
    assert not (tmp_path / "cut" / "adapters" / "epoch_2").exists()
    seen = []
    resumed = train_selfexplain(_fresh(loaded_model), mix, settings, tmp_path / "cut", progress=False, eval_loss=False, hook=seen.append)
    assert seen == [2]  # epoch 1 was not trained again
    a = load_file(str(whole[-1] / "adapter_model.safetensors"))
    b = load_file(str(resumed[-1] / "adapter_model.safetensors"))
    assert a.keys() == b.keys() and all((a[k] == b[k]).all() for k in a)
    first = load_file(str(whole[0] / "adapter_model.safetensors"))
    assert any((first[k] != a[k]).any() for k in a)  # epoch 2 changed the weights: the comparison can fail
    # A finished directory returns its adapters without training; other settings are refused.
    assert train_selfexplain(loaded_model, mix, settings, tmp_path / "cut", progress=False, hook=seen.append) == resumed and seen == [2]
    with pytest.raises(ConfigError, match="other settings"):
        train_selfexplain(loaded_model, mix, dataclasses.replace(settings, lr=1e-4), tmp_path / "cut", progress=False)
    with pytest.raises(ConfigError, match="items differ"):
        train_selfexplain(loaded_model, mix[:-1], settings, tmp_path / "cut", progress=False)
    assert (tmp_path / "cut" / STATE_FILE).is_file()
    gc.collect()
