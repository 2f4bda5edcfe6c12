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
