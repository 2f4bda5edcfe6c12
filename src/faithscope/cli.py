"""The ``faithscope`` command: a thin typer wrapper over the Python API.

Every user error (bad option value, missing file, malformed record, refused config) is one
line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Optional

import typer

try:  # typer >= 0.25 vendors click; older typer uses click itself
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover
    from click import exceptions as click_exceptions

from .errors import ConfigError, FaithscopeError, Interrupted
from .methods import DEFAULT_METHODS, all_method_names
from .models.batching import DEFAULT_MAX_BATCH_TOKENS

INTERRUPTED = "interrupted — rerun the same command to resume (every finished batch is stored)"

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False, rich_markup_mode=None,
                  help="Is an LLM's rationale true to the model and close to a human's?")
list_app = typer.Typer(add_completion=False, no_args_is_help=True, help="List tasks, datasets, models, methods and metrics.")
app.add_typer(list_app, name="list")
task_app = typer.Typer(add_completion=False, no_args_is_help=True, help="Check task files of your own.")
app.add_typer(task_app, name="task")


def _json_object(value: str | None, option: str) -> dict | None:
    """A JSON object given on the command line, or a one-line error naming the option."""
    if value is None:
        return None
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as e:
        raise ConfigError(f"{option}: not valid JSON ({e.msg} at column {e.colno})") from None
    if not isinstance(parsed, dict):
        raise ConfigError(f"{option}: must be a JSON object such as '{{\"repeat_penalty\": 1.0}}'")
    return parsed


def _methods(value: str) -> tuple[str, ...]:
    """``default``, ``all`` (every registered method) or a comma-separated list of names."""
    from .methods import get_method

    if value.strip() in ("", "default"):
        return DEFAULT_METHODS
    if value.strip() in ("all", "all-methods"):
        return all_method_names()
    names = tuple(m.strip() for m in value.split(",") if m.strip())
    for name in names:
        get_method(name)  # raises ConfigError naming the known methods
    return names


# -- options shared by `run` and `finetune` (one definition each, so the two cannot drift) --
DATA_DIR = typer.Option(None, envvar="FAITHSCOPE_DATA", help="Folder holding esnli/, fever/, medical_bios/ (or set FAITHSCOPE_DATA).")
SEED = typer.Option(0, help="Seed for sampling, random rationales (and, for finetune, LoRA initialisation and shuffling).")
MODEL = typer.Option("embedded", help="'embedded', a Hugging Face hub id, a local directory, or the served model name.")
GGUF_FILE = typer.Option(None, help="GGUF file inside --model's directory.")
DTYPE = typer.Option("float32", help="float32 | bfloat16 | float16")
DEVICE = typer.Option("cpu", help="torch device, e.g. cpu or cuda")
PROMPT_FORMAT = typer.Option("plain", help="plain | chat (wrap prompts in the model's chat template)")
TARGET = typer.Option("probability", help="Attribution target: probability | log_probability | logit")
REDUCTION = typer.Option("l2", help="Reduction over the embedding dimension: l2 | sum | abs_sum")
ATTENTION = typer.Option("mean", help="Attention aggregation: mean (layers and heads) | last_layer")
MASK = typer.Option("delete", help="Masking for flip rates: delete | placeholder")
PLACEHOLDER = typer.Option("_", help="Placeholder word when --mask placeholder.")
MAX_NEW_TOKENS = typer.Option(64, help="Generation budget of UNBOUND prompting (TOP-VAR uses 16 + 4k).")
RANDOM_DRAWS = typer.Option(100, help="Seeded draws averaged for the random baseline's alignment.")
MIN_ANNOTATORS = typer.Option(2, help="e-SNLI: a word is human rationale when at least this many annotators marked it.")
TASK_DIR = typer.Option(None, "--task-dir", help="Folder of task files searched for --task NAME (repeatable; before FAITHSCOPE_TASKS and the built-in ones).")
MAX_BATCH_TOKENS = typer.Option(DEFAULT_MAX_BATCH_TOKENS, help="Padded-token budget of one forward/backward batch (raise it on a GPU).")
PROGRESS = typer.Option(True, help="Show progress bars.")
METHODS_HELP = (f"Comma-separated methods: {', '.join(all_method_names())}; "
                f"'default' = {','.join(DEFAULT_METHODS)}; 'all' = every method.")


def _attribution(target: str, reduction: str, attention: str):
    from .models.gradients import AttributionConfig

    try:
        return AttributionConfig(target=target, reduction=reduction, attention=attention)  # type: ignore[arg-type]
    except ValueError as e:
        raise ConfigError(str(e)) from None


@app.command(short_help="Classify, extract rationales with every method, mask and re-score; resumable.")
def run(
    dataset: str = typer.Option("demo", help="demo | esnli | esnli-plain | fever | medical_bios | eraser (--data-dir DIR --task T) | file (--data-file)"),
    data_dir: Optional[str] = DATA_DIR,
    task: Optional[str] = typer.Option(None, help="Task name or task file FILE.toml (labels, verbalizers, prompts); default: the dataset's own. Required with --data-file and --dataset eraser."),
    task_dir: Optional[list[str]] = TASK_DIR,
    data_file: Optional[str] = typer.Option(None, help="Your own .jsonl/.csv/.parquet file (the task's fields, label, optional id and rationale; docs/own-data.md)."),
    split: Optional[str] = typer.Option(None, help="--dataset eraser: train | val | test (default test)."),
    n: Optional[int] = typer.Option(None, "-n", help="Seeded random sample of N examples (ids stored with the run)."),
    first: bool = typer.Option(False, "--first", help="Take the first N examples in file order instead of a random sample."),
    seed: int = SEED,
    methods: str = typer.Option("default", help=METHODS_HELP),
    model: str = MODEL,
    gguf_file: Optional[str] = GGUF_FILE,
    adapter: Optional[str] = typer.Option(None, help="PEFT (LoRA) adapter directory, e.g. from `faithscope finetune`."),
    dtype: str = DTYPE,
    device: str = DEVICE,
    backend: str = typer.Option("transformers", help="transformers | openai (an OpenAI-compatible HTTP server)"),
    base_url: Optional[str] = typer.Option(None, help="Server URL for --backend openai, e.g. http://127.0.0.1:8080/v1"),
    endpoint: str = typer.Option("completions", help="completions (same string as the transformers backend) | chat"),
    api_key_env: str = typer.Option("OPENAI_API_KEY", help="Environment variable holding the API key (never stored)."),
    top_logprobs: int = typer.Option(20, help="--backend openai: log-probabilities asked per request (llama.cpp allows thousands; OpenAI 20)."),
    extra_body: Optional[str] = typer.Option(None, help="--backend openai: JSON object of extra request fields, e.g. '{\"repeat_penalty\": 1.0}' for llama.cpp (its default 1.1 makes temperature 0 not greedy)."),
    score_missing: str = typer.Option("none", help="--backend openai: labels missing from the top log-probs: none (classify by the reply, no probabilities) | wide (ask again for 5000 alternatives; llama.cpp) | echo (teacher-force the verbalizer; vLLM, completions)."),
    prompt_format: str = PROMPT_FORMAT,
    max_length: Optional[int] = typer.Option(None, help="Context window override; longer inputs are truncated (recorded). Required with --backend openai when the server does not report its context window."),
    target: str = TARGET,
    reduction: str = REDUCTION,
    attention: str = ATTENTION,
    mask: str = MASK,
    placeholder: str = PLACEHOLDER,
    max_new_tokens: int = MAX_NEW_TOKENS,
    random_draws: int = RANDOM_DRAWS,
    ig_steps: int = typer.Option(20, help="Interpolation steps of integrated_gradients (zero-embedding baseline, Gauss-Legendre)."),
    aopc: bool = typer.Option(True, help="Score ERASER's AOPC bins (1/5/10/20/50 %) of scored methods; --no-aopc skips them (most of the masking stage's prompts) and Table 4 shows no AOPC columns."),
    min_annotators: int = MIN_ANNOTATORS,
    skip_invalid: bool = typer.Option(False, help="Skip (and count) malformed records instead of stopping at the first."),
    output_dir: Optional[str] = typer.Option(None, help="Run directory (default runs/<dataset>-<config hash>); rerun to resume."),
    batch_size: int = typer.Option(16, help="Examples per step (results are committed per step)."),
    max_batch_tokens: int = MAX_BATCH_TOKENS,
    concurrency: int = typer.Option(4, help="Concurrent requests (--backend openai)."),
    timeout: float = typer.Option(60.0, help="Request timeout in seconds (--backend openai)."),
    max_retries: int = typer.Option(4, help="Retries on 429/5xx/connection errors (--backend openai)."),
    progress: bool = PROGRESS,
    report: bool = typer.Option(True, help="Write tables, plots and the HTML report when done."),
    wait: bool = typer.Option(False, "--wait", help="If another run holds the run directory, wait for it instead of stopping."),
) -> None:
    """Classify, extract rationales with every method, mask and re-score; resumable.

    A rerun of the same command resumes where the last one stopped, and with nothing left
    to do prints the summary without loading the model."""
    from .models.loading import ModelSpec
    from .runs.config import RunConfig
    from .runs.runner import run as run_api

    attribution_config = _attribution(target, reduction, attention)
    config = RunConfig(
        dataset=dataset, data_dir=data_dir, task=task, task_dir=tuple(task_dir or ()), data_file=data_file, split=split, n=n, first=first, seed=seed, skip_invalid=skip_invalid, min_annotators=min_annotators,
        methods=_methods(methods), model=ModelSpec(model, gguf_file, adapter, dtype, device), backend=backend, base_url=base_url,
        endpoint=endpoint, api_key_env=api_key_env, top_logprobs=top_logprobs, extra_body=_json_object(extra_body, '--extra-body'), prompt_format=prompt_format, max_length=max_length, attribution=attribution_config,
        score_missing=score_missing, mask=mask, placeholder=placeholder, max_new_tokens=max_new_tokens, random_draws=random_draws, ig_steps=ig_steps, aopc=aopc, batch_size=batch_size,
        max_batch_tokens=max_batch_tokens, concurrency=concurrency, timeout=timeout, max_retries=max_retries, progress=progress,
    )
    if config.task:  # the task file's hash is part of the run's identity (and of the default directory's name)
        from .runs.runner import resolve_run_task

        resolve_run_task(config)
    config.output_dir = output_dir or str(Path("runs") / f"{config.dataset}-{config.config_hash()[:8]}")
    result = run_api(config, wait=wait, notify=lambda line: typer.echo(line, err=True))
    result.store.close()  # checkpoint the WAL now, not when the object is collected (a later reader would see the file change)
    _report([result.run_dir], None, write=report)


@app.command(short_help="Counterfactual tests of self-explanations (CT, CCT, phi-CCT, TPR/FPR); resumable.")
def counterfactual(
    dataset: str = typer.Option("demo", help="esnli | comve | ecqa | fever | medical_bios | demo"),
    data_dir: Optional[str] = typer.Option(None, envvar="FAITHSCOPE_DATA", help="Folder holding esnli/, comve/, ecqa/, ... (or set FAITHSCOPE_DATA)."),
    n: Optional[int] = typer.Option(None, "-n", help="Seeded random sample of N examples."),
    seed: int = typer.Option(0, help="Seed for sampling, interventions and demonstrations."),
    style: str = typer.Option("instruction", help="instruction (zero-shot) | human (few-shot with human explanations)"),
    order: str = typer.Option("pe", help="pe (predict, then explain) | ep (explain, then predict)"),
    positions: int = typer.Option(4, help="Insertion positions per example."),
    words: int = typer.Option(4, help="Random words per position."),
    demonstrations: int = typer.Option(3, help="--style human: demonstrations per prompt."),
    inflections: bool = typer.Option(False, help="Count inflected forms of the inserted word as mentions."),
    max_new_tokens: Optional[int] = typer.Option(None, help="Explanation token budget (default: the task file's)."),
    model: str = typer.Option("embedded", help="'embedded', a Hugging Face hub id, a local directory, or the served model name."),
    gguf_file: Optional[str] = typer.Option(None, help="GGUF file inside --model's directory."),
    adapter: Optional[str] = typer.Option(None, help="PEFT (LoRA) adapter directory, e.g. from `faithscope finetune`."),
    dtype: str = typer.Option("float32", help="float32 | bfloat16 | float16"),
    device: str = typer.Option("cpu", help="torch device, e.g. cpu or cuda"),
    backend: str = typer.Option("transformers", help="transformers | openai (an OpenAI-compatible HTTP server)"),
    base_url: Optional[str] = typer.Option(None, help="Server URL for --backend openai, e.g. http://127.0.0.1:8080/v1"),
    endpoint: str = typer.Option("completions", help="completions | chat (--backend openai)"),
    api_key_env: str = typer.Option("OPENAI_API_KEY", help="Environment variable holding the API key (never stored)."),
    top_logprobs: int = typer.Option(20, help="--backend openai: log-probabilities asked per request."),
    extra_body: Optional[str] = typer.Option(None, help="--backend openai: JSON object of extra request fields."),
    output_dir: Optional[str] = typer.Option(None, help="Run directory (default runs/cf-<dataset>-<style>-<order>); rerun to resume."),
    batch_size: int = typer.Option(8, help="Examples per step (results are committed per step)."),
    max_batch_tokens: int = typer.Option(DEFAULT_MAX_BATCH_TOKENS, help="Padded-token budget of one forward batch."),
    concurrency: int = typer.Option(4, help="Concurrent requests (--backend openai)."),
    timeout: float = typer.Option(60.0, help="Request timeout in seconds (--backend openai)."),
    max_retries: int = typer.Option(4, help="Retries on 429/5xx/connection errors (--backend openai)."),
) -> None:
    """Counterfactual tests of self-explanations (CT, CCT, phi-CCT, TPR/FPR); resumable."""
    from .counterfactual.api import run_counterfactual
    from .models.loading import ModelSpec
    from .runs.config import RunConfig
    from .runs.runner import make_backend

    out = output_dir or str(Path("runs") / f"cf-{dataset}-{style}-{order}")
    config = RunConfig(dataset="demo", model=ModelSpec(model, gguf_file, adapter, dtype, device), backend=backend, base_url=base_url,
                       endpoint=endpoint, api_key_env=api_key_env, top_logprobs=top_logprobs,
                       extra_body=_json_object(extra_body, "--extra-body"), batch_size=batch_size,
                       max_batch_tokens=max_batch_tokens, concurrency=concurrency, timeout=timeout, max_retries=max_retries)
    config.output_dir = out
    be = make_backend(config)
    try:
        run_dir = run_counterfactual(dataset=dataset, output_dir=out, backend=be, data_dir=data_dir, n=n, seed=seed, style=style,
                                     order=order, positions=positions, words=words, demonstrations=demonstrations,
                                     inflections=inflections, max_new_tokens=max_new_tokens, batch_size=batch_size)
    finally:
        be.close()
    typer.echo(f"counterfactual results in {run_dir}; tables: {Path(run_dir) / 'counterfactual.md'} (.csv, .tex)")


@app.command(short_help="Train faithful self-explanations (Doi et al. 2025) and check them before/after (Madsen et al.); resumable.")
def selfexplain(
    preset: str = typer.Option("cpu", help="cpu (embedded model on a small CPU) | paper (7B-style LoRA settings for a GPU)"),
    data_dir: Optional[str] = typer.Option(None, envvar="FAITHSCOPE_DATA", help="Folder holding esnli/, ag_news/, sentiment140/ (or set FAITHSCOPE_DATA)."),
    tasks: str = typer.Option("snli,agnews,sentiment140", help="Comma-separated study tasks: snli, agnews, sentiment140 (demo: the shipped pairs)."),
    styles: str = typer.Option("attribution,redaction,counterfactual", help="Comma-separated explanation styles."),
    train_n: int = typer.Option(100, help="Training examples per task (pseudo explanations and classification instructions)."),
    eval_n: int = typer.Option(50, help="Evaluation examples per task (disjoint from training by normalised text)."),
    epochs: Optional[int] = typer.Option(None, help="Training epochs (default: the preset's)."),
    output_dir: str = typer.Option("runs/selfexplain", help="Study directory; rerun the same command to resume."),
    model: str = MODEL,
    gguf_file: Optional[str] = GGUF_FILE,
    adapter: Optional[str] = typer.Option(None, help="PEFT (LoRA) adapter merged into the base model before the study."),
    dtype: str = DTYPE,
    device: str = DEVICE,
    experiments: str = typer.Option("main", help="Comma-separated: main (train on all), cross-style (one style each: 3x3), unseen-task (leave one task out); none = only check the model as it is."),
    seed: int = typer.Option(0, help="Seed for splits, targets, training and random-word baselines."),
    draws: int = typer.Option(10, help="Random-word draws per checked row in the second view (each is one scored prompt)."),
    progress: bool = PROGRESS,
) -> None:
    """Train faithful self-explanations (Doi et al. 2025) and check them before/after (Madsen et al.); resumable."""
    from .models.loading import ModelSpec
    from .selfexplain.config import StudyConfig
    from .selfexplain.study import run_study

    config = StudyConfig(preset=preset, data_dir=data_dir, tasks=tasks, styles=styles, train_n=train_n, eval_n=eval_n, epochs=epochs,
                         model=ModelSpec(model, gguf_file, adapter, dtype, device), output_dir=output_dir, seed=seed,
                         experiments=experiments, draws=draws, progress=progress)
    typer.echo(f"selfexplain study directory: {output_dir}", err=True)
    out = run_study(config, notify=lambda line: typer.echo(line, err=True))
    main_md = Path(out) / "report" / "selfexplain_main.md"
    typer.echo((main_md.read_text(encoding="utf-8") if main_md.is_file() else "") +
               f"\ntables, plots and report.html in {Path(out) / 'report'}")


def _report(run_dirs: list[Path], out: Optional[Path], write: bool = True) -> None:
    from .reports import build_report, print_summary

    if not write:
        typer.echo(f"results stored in {run_dirs[0] / 'results.sqlite'}; `faithscope report {run_dirs[0]}` writes the tables")
        return
    typer.echo(print_summary(build_report(run_dirs, out)))


@app.command(short_help="Tables (Markdown, CSV, LaTeX), plots and an HTML report from stored results only.")
def report(
    run_dirs: list[Path] = typer.Argument(..., metavar="RUN_DIR", help="One or more run directories."),
    out: Optional[Path] = typer.Option(None, "--out", help="Report directory (default RUN_DIR/report for one run)."),
    open_html: bool = typer.Option(False, "--open", help="Open report.html in the default web browser when written."),
) -> None:
    """Tables (Markdown, CSV, LaTeX), plots and an HTML report from stored results only."""
    for d in run_dirs:
        if not (d / "results.sqlite").is_file():
            raise ConfigError(f"{d}: not a faithscope run directory (no results.sqlite)")
    if len(run_dirs) > 1 and out is None:
        out = Path("runs") / ("report-" + "-".join(d.name for d in run_dirs))[:80]
    _check_report_dir(out if out is not None else run_dirs[0] / "report")
    _report(run_dirs, out)
    if open_html:
        import webbrowser

        webbrowser.open((out or run_dirs[0] / "report").resolve().joinpath("report.html").as_uri())


def _check_report_dir(out: Path) -> None:
    """The report directory can be written (checked before any table is computed)."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"report directory {out} is an existing file; pass --out DIR")
    probe = out
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise ConfigError(f"cannot write the report to {out} ({probe} is not a writable directory); pass --out DIR")


@app.command(short_help="LoRA fine-tuning with evaluation before the first and after every epoch; resumable.")
def finetune(
    preset: str = typer.Option("cpu", help="paper (Table A.2: r=32, alpha=16, batch 64, lr 7e-6/3e-6, 10 epochs, 5,000 examples) | cpu (embedded model on a small CPU)"),
    dataset: str = typer.Option("esnli", help="esnli | fever | medical_bios (needs --train-file) | demo (needs --train-file)"),
    data_dir: Optional[str] = DATA_DIR,
    train_file: Optional[str] = typer.Option(None, help="JSONL training file (the task's fields + 'label' per line); required for medical_bios."),
    train_n: Optional[int] = typer.Option(None, help="Training examples (seeded sample). Preset: paper 5000, cpu 1000."),
    eval_n: Optional[int] = typer.Option(None, help="Evaluation examples per epoch. Preset: paper 300 (MedicalBios all 113), cpu 150."),
    epochs: Optional[int] = typer.Option(None, help="Training epochs (evaluated after each, and before the first). Preset: paper 10, cpu 3."),
    lr: Optional[float] = typer.Option(None, help="Peak learning rate. Preset: paper 7e-6 (MedicalBios 3e-6), cpu 1e-3."),
    batch_size: Optional[int] = typer.Option(None, help="Total training batch per optimizer step. Preset: paper 64, cpu 8."),
    grad_accum: Optional[int] = typer.Option(None, help="Micro-batches per optimizer step (gradient accumulation). Preset: paper 1, cpu 1."),
    warmup_steps: Optional[int] = typer.Option(None, help="Linear warm-up steps (preset 10)."),
    schedule: Optional[str] = typer.Option(None, help="After warm-up: linear (decay to 0, default) | constant"),
    lora_r: Optional[int] = typer.Option(None, help="LoRA rank. Preset: paper 32, cpu 16."),
    lora_alpha: Optional[float] = typer.Option(None, help="LoRA alpha. Preset: paper 16, cpu 32."),
    lora_dropout: Optional[float] = typer.Option(None, help="LoRA dropout (preset 0.05)."),
    target_modules: Optional[str] = typer.Option(None, help="Comma-separated module names to adapt. Preset: paper q_proj,v_proj; cpu all attention and MLP projections."),
    lora_layers: Optional[int] = typer.Option(None, help="Adapt only the last N transformer layers (0 = all). Preset: paper all, cpu 10."),
    cache_frozen: bool = typer.Option(True, help="With --lora-layers: compute the frozen lower layers once and reuse them every epoch."),
    weight_decay: Optional[float] = typer.Option(None, help="AdamW weight decay (default 0)."),
    seed: int = SEED,
    methods: Optional[str] = typer.Option(None, help=METHODS_HELP + " Preset: paper default, cpu prompt-topk,input_x_gradient,random,human,all-words."),
    model: str = MODEL,
    gguf_file: Optional[str] = GGUF_FILE,
    dtype: str = DTYPE,
    device: str = DEVICE,
    prompt_format: str = PROMPT_FORMAT,
    target: str = TARGET,
    reduction: str = REDUCTION,
    attention: str = ATTENTION,
    mask: str = MASK,
    placeholder: str = PLACEHOLDER,
    max_new_tokens: int = MAX_NEW_TOKENS,
    random_draws: int = RANDOM_DRAWS,
    min_annotators: int = MIN_ANNOTATORS,
    output_dir: Optional[str] = typer.Option(None, help="Output directory (default runs/finetune-<dataset>-<preset>); rerun to resume."),
    eval_batch_size: int = typer.Option(16, help="Examples per evaluation step."),
    max_batch_tokens: int = MAX_BATCH_TOKENS,
    progress: bool = PROGRESS,
) -> None:
    """LoRA fine-tuning with evaluation before the first and after every epoch; resumable."""
    from .finetune import resolve_config
    from .finetune.pipeline import finetune as finetune_api
    from .models.loading import ModelSpec

    overrides = dict(data_dir=data_dir, train_file=train_file, train_n=train_n, eval_n=eval_n, epochs=epochs, lr=lr, batch_size=batch_size,
                     grad_accum=grad_accum, warmup_steps=warmup_steps, schedule=schedule, lora_r=lora_r, lora_alpha=lora_alpha,
                     lora_dropout=lora_dropout, lora_layers="none" if lora_layers == 0 else lora_layers, cache_frozen=cache_frozen, weight_decay=weight_decay, seed=seed,
                     target_modules=tuple(m.strip() for m in target_modules.split(",") if m.strip()) if target_modules else None,
                     methods=_methods(methods) if methods else None, model=ModelSpec(model, gguf_file, None, dtype, device),
                     prompt_format=prompt_format, attribution=_attribution(target, reduction, attention), mask=mask, placeholder=placeholder,
                     max_new_tokens=max_new_tokens, random_draws=random_draws, min_annotators=min_annotators, eval_batch_size=eval_batch_size, max_batch_tokens=max_batch_tokens, progress=progress,
                     output_dir=output_dir or str(Path("runs") / f"finetune-{dataset}-{preset}"))
    config = resolve_config(preset, dataset, **overrides)
    typer.echo(f"fine-tune directory: {config.output_dir}", err=True)
    result = finetune_api(config)
    analysis = result.files.get("analysis", [])
    typer.echo((analysis[0].read_text(encoding="utf-8") if analysis else "") +
               f"\nfiles in {Path(config.output_dir) / 'analysis'}; adapters in {Path(config.output_dir) / 'adapters'}; "
               f"full report: faithscope report {config.output_dir}")


@app.command(short_help="Run a plan of models x datasets x evaluations; compose tables, scaling plots, index.html.")
def sweep(
    plan: Path = typer.Argument(..., help="Plan TOML: [[models]], [[datasets]], [[evaluations]] (docs/sweeps.md)."),
    executor: str = typer.Option("local", help="local (cells in turn, each model loaded once) | ray (one Ray task per cell)"),
    output_dir: Path = typer.Option(Path("runs/sweep"), help="Sweep directory (cells/ and the composed tables); rerun to resume."),
    data_dir: Optional[str] = typer.Option(None, envvar="FAITHSCOPE_DATA", help="Folder holding esnli/, fever/, medical_bios/."),
    dry_run: bool = typer.Option(False, "--dry-run", help="List the cells and which are done, partial or new; run nothing."),
    fail_fast: bool = typer.Option(False, "--fail-fast", help="Stop at the first failed cell (default: report it and go on)."),
    ray_address: Optional[str] = typer.Option(None, help="--executor ray: address of an existing cluster (default: a local instance)."),
    progress: bool = typer.Option(True, help="Show progress bars."),
) -> None:
    """Run a plan of models x datasets x evaluations; compose tables, scaling plots, index.html."""
    from .sweep import dry_run as dry_run_api, load_plan, run_sweep

    parsed = load_plan(plan, data_dir)
    if dry_run:
        listed = dry_run_api(parsed, output_dir)
        for cell, status in listed:
            typer.echo(f"{status:8} {cell.name:50} {cell.dir}")
        counts = {s: sum(1 for _, st in listed if st == s) for s in ("done", "partial", "new")}
        typer.echo(f"{len(listed)} cells: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
        return
    result = run_sweep(parsed, output_dir, executor, fail_fast, ray_address, progress)
    for o in result.outcomes:
        typer.echo(f"{o.status:8} {o.name}" + (f": {o.error}" if o.error else ""))
    if result.composed is not None:
        typer.echo(f"composed tables and plots in {result.composed.out_dir}; open {result.composed.files['html'][0]}")
    if result.failed:  # sys.exit: typer.Exit is swallowed by main()'s standalone_mode=False
        sys.exit(1)


@list_app.command("methods")
def list_methods_cmd() -> None:
    """Rationale methods, with what each does."""
    from .methods import list_methods

    for m in list_methods():
        typer.echo(f"{m.name:21} {m.kind:12} {m.description}")


@list_app.command("metrics")
def list_metrics_cmd() -> None:
    """Metrics: name, range, better direction, the table they are a column of, meaning."""
    from .metrics import list_metrics

    for m in list_metrics():
        where = f"table {m.table}" if m.table else "no table"
        better = "higher better" if m.higher_is_better else "lower better"
        typer.echo(f"{m.name:26} {m.range_text():12} {m.arrow} {better:13} {where:9} {m.description}")


@list_app.command("tasks")
def list_tasks_cmd(task_dir: Optional[list[str]] = TASK_DIR) -> None:
    """Tasks (one TOML file each): built-in ones and those of --task-dir and FAITHSCOPE_TASKS, with their paths."""
    from .tasks import task_entries

    for e in task_entries(tuple(task_dir or ())):
        if e.task is None:
            typer.echo(f"{e.name:14} [{e.origin}] INVALID: {e.error}  {e.path}")
            continue
        hidden = f"  (shadowed by {e.shadowed_by})" if e.shadowed_by else ""
        typer.echo(f"{e.name:14} [{e.origin}] labels={','.join(e.task.labels)}  fields={','.join(e.task.fields)}  {e.path}{hidden}")


@task_app.command("check")
def task_check_cmd(
    task: str = typer.Argument(..., metavar="TASK", help="Task file (FILE.toml) or task name."),
    example_file: Optional[Path] = typer.Option(None, help="Render the prompts with the first record of this data file (--data-file format)."),
    task_dir: Optional[list[str]] = TASK_DIR,
    model: str = MODEL,
    gguf_file: Optional[str] = GGUF_FILE,
    tokenizer: bool = typer.Option(True, help="Load the model's tokenizer to check that every verbalizer encodes to tokens (--no-tokenizer: skip)."),
) -> None:
    """Validate a task file and print one prompt of each kind, exactly as the model receives it."""
    from .tasks import resolve_task
    from .tasks.check import check_task, format_check

    resolved = resolve_task(task, tuple(task_dir or ()))
    encode = None
    if tokenizer:
        from .models.loading import ModelSpec, load_tokenizer

        tok = load_tokenizer(ModelSpec(model, gguf_file))
        encode = lambda text: tok(text, add_special_tokens=False).input_ids  # noqa: E731 - as HFBackend.verbalizer_ids
    typer.echo(format_check(check_task(resolved, encode, example_file)))


@list_app.command("datasets")
def list_datasets_cmd() -> None:
    """Datasets and the task each uses."""
    from .data import DATASETS

    for name, spec in DATASETS.items():
        typer.echo(f"{name:14} task={spec.task or '(--task)':14} {spec.description}")


@list_app.command("models")
def list_models_cmd() -> None:
    """The packaged models (the embedded default first) and the kinds of model faithscope loads."""
    from .models.packaged import describe, packaged_names, where

    for name in packaged_names():
        try:
            location = where(name)
        except FaithscopeError as e:
            location = f"not installed ({e})"
        typer.echo(f"{name:14} {describe(name)}\n               file: {location}")
    typer.echo("<hub id>       any Hugging Face causal LM (--model ID [--gguf-file F] [--adapter DIR])")
    typer.echo("<directory>    a local model directory (same options)")
    typer.echo("--backend openai --base-url URL --model NAME   a model behind an OpenAI-compatible server (no gradients)")


def _raise_interrupted(signum: int, frame: object) -> None:
    raise Interrupted(signum, 128 + signum)


def main(argv: list[str] | None = None) -> None:
    """Entry point: one-line errors with exit code 2 for anything the user can fix; Ctrl-C
    exits 130 and SIGTERM 143 with the resume line (typer would turn Ctrl-C into a silent
    return value, so both signals raise :class:`Interrupted` from our own handler)."""
    logging.basicConfig(level=os.environ.get("FAITHSCOPE_LOG", "WARNING"), format="%(levelname)s %(name)s: %(message)s")
    main_thread = threading.current_thread() is threading.main_thread()
    previous = {sig: signal.signal(sig, _raise_interrupted) for sig in (signal.SIGINT, signal.SIGTERM)} if main_thread else {}
    command = typer.main.get_command(app)
    try:
        code = command.main(args=argv, prog_name="faithscope", standalone_mode=False)
    except Interrupted as e:
        _ignore_signals()
        typer.echo(INTERRUPTED, err=True)
        sys.exit(e.exit_code)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except typer.Abort:
        typer.echo(INTERRUPTED, err=True)
        sys.exit(130)
    except click_exceptions.NoArgsIsHelpError as e:
        typer.echo(e.format_message() if hasattr(e, "format_message") else str(e))
        sys.exit(0)
    except click_exceptions.ClickException as e:
        typer.echo(f"error: {e.format_message()}", err=True)
        sys.exit(2)
    except FaithscopeError as e:
        typer.echo(f"error: {' '.join(str(e).split())}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        typer.echo(INTERRUPTED, err=True)
        sys.exit(130)
    finally:
        for sig, handler in previous.items():
            try:
                signal.signal(sig, handler)
            except (TypeError, ValueError):
                pass
    if isinstance(code, int) and code == 130:  # typer's value for a KeyboardInterrupt it caught
        typer.echo(INTERRUPTED, err=True)
        sys.exit(130)
    if isinstance(code, int) and code:
        sys.exit(code)


def _ignore_signals() -> None:
    """A second Ctrl-C while the message is printed must not produce a traceback."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)


if __name__ == "__main__":  # pragma: no cover
    main()
