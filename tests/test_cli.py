"""The CLI: one-line errors with exit code 2, listings, no tracebacks."""

from __future__ import annotations

import pytest

from faithscope.cli import main


def run_cli(args, capsys):
    code = 0
    try:
        main(args)
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.parametrize("args, needle", [
    (["run", "--mask", "bogus"], "unknown --mask 'bogus'"),
    (["run", "--methods", "nope"], "unknown method 'nope'"),
    (["run", "--target", "entropy"], "unknown attribution target"),
    (["run", "-n", "abc"], "valid integer"),
    (["run", "--dataset", "fever", "--data-dir", "/nonexistent/dir"], "/nonexistent/dir"),
    (["run", "--dataset", "imagenet"], "imagenet"),
    (["run", "--backend", "openai"], "--base-url"),
    (["report", "/nonexistent/run"], "not a faithscope run directory"),
    (["run", "--bogus-flag"], "No such option"),
    (["run", "--backend", "openai", "--base-url", "http://127.0.0.1:9/v1", "--extra-body", "{repeat"], "--extra-body: not valid JSON"),
    (["run", "--backend", "openai", "--base-url", "http://127.0.0.1:9/v1", "--extra-body", "[1]"], "must be a JSON object"),
    (["run", "--extra-body", '{"repeat_penalty": 1.0}'], "needs --backend openai"),
])
def test_bad_input_is_one_line_exit_2(args, needle, capsys):
    code, out, err = run_cli(args, capsys)
    assert code == 2
    lines = [ln for ln in err.splitlines() if ln.strip() and not ln.startswith("run directory:")]
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and needle in lines[0]
    assert "Traceback" not in err


def test_list_methods(capsys):
    code, out, _ = run_cli(["list", "methods"], capsys)
    assert code == 0
    for name in ("prompt-unbound", "prompt-topk", "attention", "saliency", "input_x_gradient", "random", "human", "all-words"):
        assert name in out


def test_list_tasks_and_datasets(capsys):
    _, out, _ = run_cli(["list", "tasks"], capsys)
    assert "esnli" in out and "entailment,contradiction,neutral" in out
    _, out, _ = run_cli(["list", "datasets"], capsys)
    assert "esnli-plain" in out and "medical_bios" in out


def test_cli_token_budget_defaults_to_the_engine_default():
    """The memory target holds for the default budget: the CLI must not use another one
    (it once defaulted to 4,096 and a FEVER run peaked at 6.4 GiB)."""
    import inspect

    from faithscope import cli
    from faithscope.finetune.presets import FinetuneConfig
    from faithscope.models.batching import DEFAULT_MAX_BATCH_TOKENS
    from faithscope.runs.config import RunConfig

    for command in (cli.run, cli.finetune):
        assert inspect.signature(command).parameters["max_batch_tokens"].default.default == DEFAULT_MAX_BATCH_TOKENS
    assert RunConfig().max_batch_tokens == FinetuneConfig.__dataclass_fields__["max_batch_tokens"].default == DEFAULT_MAX_BATCH_TOKENS


def test_methods_all_means_every_registered_method_and_all_words_is_the_baseline():
    from faithscope.cli import _methods
    from faithscope.methods import DEFAULT_METHODS, REGISTRY, get_method

    assert set(_methods("all")) == set(REGISTRY) and len(_methods("all")) == len(REGISTRY) > 1
    assert _methods("default") == DEFAULT_METHODS and "all-words" in DEFAULT_METHODS
    assert get_method("all-words").name == "all-words"
    with pytest.raises(Exception, match="all-words"):
        get_method("all")


def test_help_shows_whole_descriptions_method_names_and_run_dir(capsys):
    from faithscope.methods import REGISTRY

    _, out, _ = run_cli(["--help"], capsys)
    flat = " ".join(out.split()).replace("- ", "-")  # click may wrap a description at a hyphen
    assert "TPR/FPR); resumable." in flat and "scaling plots, index.html." in flat
    assert "mask and re-score; resumable." in flat and "from stored results only." in flat and "after every epoch; resumable." in flat
    _, out, _ = run_cli(["run", "--help"], capsys)
    flat = " ".join(out.split()).replace("- ", "-")
    for name in REGISTRY:
        assert name in out.replace("\n", "").replace(" ", "") or name in flat
    _, out, _ = run_cli(["report", "--help"], capsys)
    assert "RUN_DIR" in out and "PATH..." not in out


def test_finetune_shares_the_run_options_and_uses_them():
    import inspect

    from faithscope import cli
    from faithscope.finetune import resolve_config
    from faithscope.finetune.data import eval_run_config
    from faithscope.models.gradients import AttributionConfig

    run_params, ft_params = inspect.signature(cli.run).parameters, inspect.signature(cli.finetune).parameters
    shared = ("mask", "placeholder", "min_annotators", "random_draws", "max_new_tokens", "target", "reduction", "attention",
              "prompt_format", "model", "gguf_file", "dtype", "device", "seed", "data_dir", "max_batch_tokens", "progress")
    for name in shared:
        assert ft_params[name].default is run_params[name].default, name  # one option object, not a copy
    assert "top_logprobs" not in ft_params
    config = resolve_config("cpu", "esnli", mask="placeholder", placeholder="[X]", min_annotators=3, random_draws=7, max_new_tokens=9,
                            attribution=AttributionConfig(target="logit", reduction="sum", attention="last_layer"), output_dir="x")
    rc = eval_run_config(config)
    assert (rc.mask, rc.placeholder, rc.min_annotators, rc.random_draws, rc.max_new_tokens) == ("placeholder", "[X]", 3, 7, 9)
    assert rc.attribution == AttributionConfig(target="logit", reduction="sum", attention="last_layer")


def test_table4_note_names_the_base_of_each_effect_column_and_skips_are_shown(tmp_path, capsys):
    """The --skip-invalid count and the -n note reached only summary.json/HTML, not the
    terminal or the Markdown tables."""
    from reports.conftest import build_store  # tests/reports: the tiny hand-written store

    from faithscope.runs.store import ResultStore

    run_dir = build_store(tmp_path / "run")
    store = ResultStore.in_dir(run_dir)
    store.set_meta(skipped_invalid=2, skipped_reasons=["data.jsonl, line 4: not valid JSON"],
                   sample_note="asked for 10 examples but only 3 are available; using all of them")
    store.close()
    code, out, err = run_cli(["report", str(run_dir), "--out", str(tmp_path / "rep")], capsys)
    assert code == 0, err
    assert "skipped 2 invalid record(s) with --skip-invalid" in out and "only 3 are available" in out
    first = (tmp_path / "rep" / "first_outputs.md").read_text(encoding="utf-8")
    assert "skipped 2 invalid record(s)" in first and "only 3 are available" in first
    t4 = (tmp_path / "rep" / "table4_faithfulness.md").read_text(encoding="utf-8")
    assert "Δ log p is on the verbaliser log-probabilities" in t4 and "compr. is on the distribution renormalised over the labels" in t4
