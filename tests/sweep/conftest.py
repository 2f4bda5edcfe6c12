"""A small demo plan for sweep tests: cheap methods, a handful of examples."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from faithscope.errors import ConfigError
from faithscope.sweep import parse_plan

DEMO_PLAN = '''
[[models]]
name = "small"
params = 135000000
tuned = "instruction"
partner = "small-pre"

[[models]]
name = "small-pre"
params = 135000000
tuned = "pretrained"
prompt_format = "chat"

[[datasets]]
name = "demo2"
dataset = "demo"
n = 2

[[datasets]]
name = "demo3"
dataset = "demo"
n = 3
seed = 1

[[evaluations]]
kind = "rationales"
methods = ["random", "human"]

[options]
batch_size = 8
'''

#: One model, one dataset: a single cheap cell.
ONE_CELL_PLAN = DEMO_PLAN.replace('partner = "small-pre"\n', '').split('[[models]]\nname = "small-pre"')[0] + '[[datasets]]' + DEMO_PLAN.split('[[datasets]]')[1] + \
    '[[evaluations]]' + DEMO_PLAN.split('[[evaluations]]')[1]


def store_rows(run_dir: Path) -> dict[str, list[Any]]:
    """Every result row of a run (predictions, rationales, masked), sorted, for comparisons."""
    out = {}
    with sqlite3.connect(run_dir / "results.sqlite") as c:
        out["predictions"] = sorted(c.execute("SELECT example_id, labels, logprobs, predicted FROM predictions").fetchall())
        out["rationales"] = sorted(c.execute("SELECT example_id, method, purpose, target_label, positions, draws FROM rationales").fetchall())
        out["masked"] = sorted(c.execute("SELECT example_id, method, strategy, n_masked, predicted, flipped, masked_logprob FROM masked").fetchall())
    return out


@pytest.fixture
def counting_loader(monkeypatch, loaded_model):
    """The local executor loads the session's model instead of its own; the list of the model
    names it was asked to load shows that each model is loaded once."""
    from faithscope.sweep import local as local_mod

    calls: list[str] = []

    def loader(model):
        calls.append(model.name)
        return loaded_model

    monkeypatch.setattr(local_mod, "_load", loader)
    monkeypatch.setattr(local_mod.run_local, "__defaults__", (False, 1.5, True, loader, None))
    return calls


def plan_error(text: str, **kw: Any) -> str:
    """The one-line ConfigError a bad plan gets (the test fails if it parses or the message spans lines)."""
    with pytest.raises(ConfigError) as e:
        parse_plan(text, **kw)
    msg = str(e.value)
    assert "\n" not in msg
    return msg
