"""Plan parsing: the issue's smallest plan as written, and one clear ConfigError line per mistake."""

from __future__ import annotations

from pathlib import Path

import pytest

from faithscope.sweep import parse_plan
from faithscope.sweep.cells import build_cells

from .conftest import plan_error as err

SMALLEST = '''
[[models]]
name = "smollm2"
model = "embedded"        # or a hub id / directory (+ gguf_file, adapter), or backend = "openai" + base_url
params = 135000000
tuned = "instruction"     # or "pretrained"; partner = "<name>" pairs them

[[datasets]]
name = "esnli"            # data from --data-dir / FAITHSCOPE_DATA
n = 50

[[evaluations]]
kind = "rationales"       # Tables 2/4; or "counterfactual", "selfexplain"
methods = ["input_x_gradient", "random", "human"]
'''

DEMO = '''
[[models]]
name = "m"
[[datasets]]
name = "demo"
n = 4
[[evaluations]]
kind = "rationales"
methods = ["random", "human"]
'''


def test_smallest_plan_as_written(shared_data, tmp_path):
    plan = parse_plan(SMALLEST, data_dir=str(shared_data))
    (cell,) = build_cells(plan, tmp_path)
    assert cell.config.dataset == "esnli" and cell.config.n == 50
    assert cell.config.methods == ("input_x_gradient", "random", "human")
    assert cell.model.params == 135_000_000 and cell.model.tuned == "instruction"
    assert cell.dir.parent == tmp_path / "cells" and cell.dir.name.startswith("smollm2__esnli__rationales-")



@pytest.mark.parametrize("text, needle", [
    (DEMO + "\nbogus = 1\n", "unknown key(s) bogus"),
    (DEMO.replace('name = "m"', 'name = "m"\nmodle = "x"'), "unknown key(s) modle"),
    (DEMO.replace("n = 4", "n = 4\nsize = 3"), "unknown key(s) size"),
    (DEMO.replace('kind = "rationales"', 'kind = "rationales"\nmethod = ["random"]'), "unknown key(s) method"),
    (DEMO.split("[[datasets]]")[0].replace("[[models]]\nname = \"m\"\n", "") + "[[datasets]]" + DEMO.split("[[datasets]]")[1], "no [[models]]"),
    (DEMO.split("[[datasets]]")[0] + "[[evaluations]]" + DEMO.split("[[evaluations]]")[1], "no [[datasets]]"),
    (DEMO.split("[[evaluations]]")[0], "no [[evaluations]]"),
    (DEMO.replace('name = "m"', 'name = "m"\n[[models]]\nname = "m"'), "duplicate name 'm'"),
    (DEMO.replace("n = 4", 'n = "four"'), "n must be an integer"),
    (DEMO.replace("n = 4", "n = true"), "n must be an integer"),
    (DEMO.replace('name = "m"', 'name = "m"\nparams = 1.5'), "params must be an integer"),
    (DEMO.replace('name = "m"', 'name = "m"\ntuned = "chat"'), "tuned must be one of"),
    (DEMO.replace('name = "m"', 'name = "m"\npartner = "nobody"'), "partner 'nobody' is not a model"),
    (DEMO.replace('name = "demo"', 'name = "nli"'), "unknown dataset 'nli'"),
    (DEMO.replace('"rationales"', '"selfexplain"'), "a selfexplain evaluation takes no methods"),
    (DEMO.replace('"rationales"', '"vibes"'), "unknown evaluation kind 'vibes'"),
    (DEMO.replace('["random", "human"]', '["random", "telepathy"]'), "telepathy"),
    (DEMO + "\n[options]\nmask = \"blur\"\n", "unknown --mask 'blur'"),
    (DEMO + "\n[options]\nbatch_sise = 2\n", "unknown key(s) batch_sise"),
    (DEMO.replace('methods = ["random", "human"]', 'methods = ["random", "human"]\noptions = {random_draws = 0}'), "--random-draws must be at least 1"),
    (DEMO.replace('name = "m"', 'name = "m"\nbackend = "openai"\nmodel = "x"'), "--backend openai needs --base-url"),
    (DEMO.replace('name = "m"', 'name = "m"\nextra_body = {repeat_penalty = 1.0}'), "needs --backend openai"),
    (DEMO.replace('name = "m"', 'name = "m"\nepochs = "all"'), "epochs needs adapter"),
    ("[[models]\nname=1", "not valid TOML"),
])
def test_bad_plans_one_line(text, needle):
    assert needle in err(text)


def test_unavailable_kind_message(monkeypatch):
    from faithscope.sweep import kinds

    monkeypatch.setitem(kinds.KINDS, "future", kinds.EvaluationKind("future", "a kind still being built", None))
    msg = err(DEMO.replace('"rationales"', '"future"'))
    assert "evaluation kind 'future' (a kind still being built) is not available in this version" in msg


def test_dataset_not_installed(tmp_path):
    (tmp_path / "fever").mkdir()
    msg = err(DEMO.replace('name = "demo"', 'name = "esnli"'), data_dir=str(tmp_path))
    assert "not installed" in msg and str(tmp_path / "esnli") in msg


def test_dataset_without_data_dir(monkeypatch):
    monkeypatch.delenv("FAITHSCOPE_DATA", raising=False)
    assert "needs a data directory holding esnli/" in err(DEMO.replace('name = "demo"', 'name = "esnli"'))


def test_models_of_every_kind(tmp_path):
    (tmp_path / "base").mkdir()
    (tmp_path / "lora").mkdir()
    text = '''
[[models]]
name = "base"
model = "base"
gguf_file = "m.gguf"
dtype = "bfloat16"
family = "f"
params = 270000000
tuned = "pretrained"
[[models]]
name = "tuned"
model = "HuggingFaceTB/SmolLM2-135M-Instruct"
adapter = "lora"
tuned = "instruction"
partner = "base"
num_gpus = 1
[[models]]
name = "served"
backend = "openai"
model = "gemma"
base_url = "http://127.0.0.1:8080/v1"
extra_body = {repeat_penalty = 1.0}
''' + DEMO.split("[[datasets]]", 1)[1].join(["[[datasets]]", ""])
    plan = parse_plan(text, base_dir=tmp_path)
    base, tuned, served = plan.models
    assert base.spec.name == str(tmp_path / "base") and base.spec.gguf_file == "m.gguf" and base.spec.dtype == "bfloat16"
    assert tuned.spec.adapter == str((tmp_path / "lora").resolve()) and tuned.partner == "base" and tuned.num_gpus == 1
    cells = build_cells(plan, tmp_path / "sweep")
    assert cells[2].config.backend == "openai" and cells[2].config.extra_body == {"repeat_penalty": 1.0}
    assert len({c.dir for c in cells}) == 3


def test_finetune_epochs_all_expand(tmp_path):
    ft = tmp_path / "ft"
    for e in (0, 1, 2):
        if e:
            (ft / "adapters" / f"epoch_{e}").mkdir(parents=True)
            (ft / "adapters" / f"epoch_{e}" / "adapter_model.safetensors").write_bytes(b"x")
    (ft / "adapters" / "epoch_3").mkdir()  # no weights: an interrupted save is not a model
    text = DEMO.replace('name = "m"', 'name = "lora"\nadapter = "ft"\nepochs = "all"')
    plan = parse_plan(text, base_dir=tmp_path)
    assert [m.name for m in plan.models] == ["lora-epoch1", "lora-epoch2"]
    assert [m.epoch for m in plan.models] == [1, 2]
    assert plan.models[1].spec.adapter == str((ft / "adapters" / "epoch_2").resolve())
    assert "no adapter for epoch(s) [5]" in err(text.replace('"all"', "[1, 5]"), base_dir=tmp_path)
    assert "holds no epoch adapters" in err(text.replace('"ft"', '"."'), base_dir=tmp_path)


def test_changed_setting_new_cell_dir(tmp_path):
    a = build_cells(parse_plan(DEMO), tmp_path)[0]
    b = build_cells(parse_plan(DEMO.replace("n = 4", "n = 5")), tmp_path)[0]
    c = build_cells(parse_plan(DEMO + "\n[options]\nmask = \"placeholder\"\n"), tmp_path)[0]
    d = build_cells(parse_plan(DEMO + "\n[options]\nbatch_size = 2\n"), tmp_path)[0]  # speed only: same cell
    assert len({a.dir, b.dir, c.dir}) == 3
    assert d.dir == a.dir


def test_cli_dry_run_and_bad_plan(tmp_path, capsys):
    from faithscope.cli import main

    plan = tmp_path / "plan.toml"
    plan.write_text(DEMO, encoding="utf-8")
    main(["sweep", str(plan), "--dry-run", "--output-dir", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert out.startswith("new      m__demo__rationales") and "1 cells: 0 done, 0 partial, 1 new" in out
    assert not (tmp_path / "out").exists()  # a dry run creates nothing
    plan.write_text(DEMO.replace('"rationales"', '"selfexplain"'), encoding="utf-8")
    with pytest.raises(SystemExit) as e:
        main(["sweep", str(plan), "--dry-run"])
    err_lines = capsys.readouterr().err.strip().splitlines()
    assert e.value.code == 2 and len(err_lines) == 1 and "takes no methods" in err_lines[0]


def test_index_page_escapes_names(tmp_path):
    from faithscope.sweep.compose import write_index

    cells = build_cells(parse_plan(DEMO.replace('name = "m"', 'name = "<b>x&y"')), tmp_path)
    page = write_index(tmp_path, cells, {cells[0].name: "new"}, {}, []).read_text(encoding="utf-8")
    assert "<b>x" not in page and "&lt;b&gt;x&amp;y" in page


@pytest.mark.parametrize("plan_file", sorted((Path(__file__).resolve().parents[2] / "plans").glob("*.toml")), ids=lambda p: p.name)
def test_shipped_plans_parse(plan_file, shared_data, tmp_path):
    """Every plan in plans/ parses as shipped, with a finetune output in place of its adapter."""
    from faithscope.finetune.trainer import ADAPTER_WEIGHTS, ADAPTERS

    for epoch in (1, 2):
        (tmp_path / ADAPTERS / f"epoch_{epoch}").mkdir(parents=True)
        (tmp_path / ADAPTERS / f"epoch_{epoch}" / ADAPTER_WEIGHTS).write_bytes(b"")
    text = plan_file.read_text(encoding="utf-8").replace('adapter = "../runs/ft-cpu"', f'adapter = "{tmp_path}"')
    plan = parse_plan(text, str(plan_file), plan_file.parent, str(shared_data))
    cells = build_cells(plan, tmp_path / "sweep")
    assert len(cells) == len(plan.models) * len(plan.datasets) * len(plan.evaluations)
    assert {m.name for m in plan.models} >= {"smollm2-instruct", "smollm2-lora-epoch1", "smollm2-lora-epoch2", "gemma3-270m"}
