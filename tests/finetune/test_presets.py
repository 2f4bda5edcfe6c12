"""Presets: Table A.2 for ``paper``, every setting overridable, bad values refused."""

from __future__ import annotations

import pytest

from faithscope.errors import ConfigError
from faithscope.finetune import PRESETS, resolve_config
from faithscope.models.loading import ModelSpec


def test_paper_preset_is_table_a2():
    c = resolve_config("paper", "esnli")
    assert (c.lora_r, c.lora_alpha, c.lora_dropout, c.batch_size, c.lr, c.epochs, c.warmup_steps, c.train_n) == (32, 16.0, 0.05, 64, 7e-6, 10, 10, 5000)
    assert resolve_config("paper", "fever").lr == 7e-6
    mb = resolve_config("paper", "medical_bios")
    assert mb.lr == 3e-6 and mb.eval_n is None


def test_every_setting_can_be_overridden():
    c = resolve_config("cpu", "fever", train_n=20, eval_n=5, epochs=1, lr=1e-3, batch_size=4, grad_accum=4, lora_r=2, lora_layers="none",
                       methods=("all-words",), output_dir="x")
    assert (c.train_n, c.eval_n, c.epochs, c.lr, c.batch_size, c.grad_accum, c.micro_batch, c.lora_r, c.lora_layers, c.methods) == \
        (20, 5, 1, 1e-3, 4, 4, 1, 2, None, ("all-words",))
    assert PRESETS["cpu"]["train_n"] == resolve_config("cpu", "esnli").train_n  # the preset table itself is untouched


def test_result_keys_exclude_speed_knobs():
    a, b = resolve_config("cpu", "esnli"), resolve_config("cpu", "esnli", eval_batch_size=2, output_dir="elsewhere", cache_frozen=False)
    assert a.config_hash() == b.config_hash()
    assert a.config_hash() != resolve_config("cpu", "esnli", lr=1e-5).config_hash()


@pytest.mark.parametrize("bad, match", [
    (dict(lr=0.0), "--lr"), (dict(epochs=0), "--epochs"), (dict(schedule="cosine"), "--schedule"),
    (dict(methods=("nope",)), "unknown method"), (dict(grad_accum=64, batch_size=8), "--grad-accum"),
    (dict(model=ModelSpec(adapter="x")), "--adapter"),
])
def test_bad_settings_are_refused(bad, match):
    with pytest.raises(ConfigError, match=match):
        resolve_config("cpu", "esnli", **bad)
    with pytest.raises(ConfigError, match="unknown --preset"):
        resolve_config("fast", "esnli")
