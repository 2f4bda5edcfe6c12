"""A full ``faithscope run`` with a per-stage breakdown, and a FEVER memory check.

Default mode: ``faithscope.runs.runner.run(RunConfig(...))`` on N examples (default 300) of
e-SNLI or FEVER with all default methods into a fresh directory, then the stages' seconds and
items/s from the result store (``store.timings()``: label scoring, attribution, prompting
generation, baselines, masking), each stage's peak resident memory (``store.stage_peaks()``)
and the process's peak resident memory. ``--longest N``: the N examples of the dataset with the
most words instead of the first N (FEVER's longest documents: the memory target).

``--memory-check``: attention + saliency + Input x Gradient (one engine call) over the
longest FEVER attribution prompts with the given token budget (default: faithscope's), and
the peak resident memory (target: under 6 GiB).

Usage::

    python benchmarks/run.py --dataset esnli -n 300
    python benchmarks/run.py --dataset fever -n 300 --max-batch-tokens 1024
    python benchmarks/run.py --dataset fever --longest 16
    python benchmarks/run.py --memory-check --n-longest 12
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STAGES = (("label_scoring", "label scoring"), ("attribution", "attribution (attention+saliency+IxG)"),
          ("prompting_generation", "prompting generation"), ("baselines", "baselines (random/human/all)"), ("masking", "masking (flip rate)"))


def parse_args(argv=None) -> argparse.Namespace:
    from faithscope.models.batching import DEFAULT_MAX_BATCH_TOKENS

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="esnli", choices=("esnli", "fever"))
    ap.add_argument("-n", type=int, default=300, help="examples (the first N of the file)")
    ap.add_argument("--longest", type=int, default=None, help="instead of -n: the N examples with the most words (whole run, all stages)")
    ap.add_argument("--output-dir", default=None, help="run directory (default: a fresh temporary directory)")
    ap.add_argument("--max-batch-tokens", type=int, default=DEFAULT_MAX_BATCH_TOKENS)
    ap.add_argument("--batch-size", type=int, default=None, help="examples per chunk (RunConfig.batch_size; default: RunConfig's)")
    ap.add_argument("--methods", default=None, help="comma-separated methods (default: all default methods)")
    ap.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    ap.add_argument("--data-dir", default=os.environ.get("FAITHSCOPE_DATA") or str(REPO.parent / "shared" / "data"))
    ap.add_argument("--progress", action="store_true", help="show progress bars")
    ap.add_argument("--memory-check", action="store_true", help="FEVER memory check instead of a run")
    ap.add_argument("--n-longest", type=int, default=12, help="--memory-check: how many of the longest FEVER prompts")
    return ap.parse_args(argv)


def full_run(args) -> int:
    from faithscope.methods import DEFAULT_METHODS
    from faithscope.runs.memory import process_peak_rss_mib
    from faithscope.runs.config import RunConfig
    from faithscope.runs.runner import run

    out = Path(args.output_dir) if args.output_dir else Path(tempfile.mkdtemp(prefix="faithscope-bench-"))
    if out.exists() and any(out.iterdir()):
        print(f"{out} is not empty: pass a fresh --output-dir (a reused one would resume, not rerun)", file=sys.stderr)
        return 2
    kw = {"batch_size": args.batch_size} if args.batch_size else {}
    methods = tuple(args.methods.split(",")) if args.methods else DEFAULT_METHODS
    config = RunConfig(dataset=args.dataset, data_dir=args.data_dir, n=args.n, first=True, methods=methods, output_dir=str(out),
                       max_batch_tokens=args.max_batch_tokens, progress=args.progress, **kw)
    subset = None
    if args.longest:
        from dataclasses import replace

        from faithscope.runs.runner import load_examples

        everything, _, _ = load_examples(replace(config, n=None))
        subset = sorted(everything, key=lambda e: (-e.n_words, e.id))[: args.longest]
        print(f"--longest {args.longest}: {subset[-1].n_words}..{subset[0].n_words} words of {len(everything)} examples")
    start = time.perf_counter()
    result = run(config, examples=subset)
    wall = time.perf_counter() - start
    timings = result.store.timings()
    peaks = result.store.stage_peaks()
    n = len(result.examples)
    print(f"faithscope run: dataset={args.dataset} examples={n} methods={','.join(methods)} max_batch_tokens={args.max_batch_tokens} "
          f"threads={args.threads} output={out}")
    print(f"{'stage':<40} {'seconds':>9} {'items':>7} {'items/s':>8} {'peak RSS GiB':>13}")
    names = dict(STAGES)
    for stage in [s for s, _ in STAGES if s in timings] + sorted(set(timings) - set(names)):
        sec, items = timings[stage]
        peak = f"{peaks[stage] / 1024:.2f}" if stage in peaks else "n/a"
        print(f"{names.get(stage, stage):<40} {sec:9.1f} {items:7d} {items / sec if sec else float('nan'):8.2f} {peak:>13}")
    staged = sum(sec for sec, _ in timings.values())
    print(f"{'sum of stages':<40} {staged:9.1f}")
    print(f"{'whole run (incl. model and data loading)':<40} {wall:9.1f} {n:7d} {n / wall:8.2f}")
    print(f"peak RSS: {process_peak_rss_mib() / 1024:.2f} GiB; machine load (1-min average): {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    return 0


def memory_check(args) -> int:
    from faithscope.data import load_dataset
    from faithscope.models.gradients import AttributionConfig, GradientEngine
    from faithscope.models.hf import HFBackend
    from faithscope.models.loading import load_model
    from faithscope.runs.memory import current_rss_mib, process_peak_rss_mib
    from faithscope.tasks import load_task
    from faithscope.tasks.fit import PromptBuilder

    loaded = load_model()
    backend = HFBackend(loaded, max_batch_tokens=args.max_batch_tokens)
    engine = GradientEngine(backend, max_batch_tokens=args.max_batch_tokens)
    data = load_dataset("fever", args.data_dir)
    task = load_task(data.task)
    builder = PromptBuilder(task, backend)
    verbal = builder.verbalizers()
    fitted = [(builder.attribution(e), e) for e in data.examples]
    ranked = sorted(fitted, key=lambda fe: -backend.count_tokens(fe[0].text))[: args.n_longest]
    prompts = [f.text for f, _ in ranked]
    targets = [verbal[e.label] for _, e in ranked]
    lengths = [backend.count_tokens(p) for p in prompts]
    after_load = process_peak_rss_mib() / 1024
    rss_before = current_rss_mib() / 1024
    start = time.perf_counter()
    engine.attribute(prompts, targets, AttributionConfig())
    sec = time.perf_counter() - start
    peak = process_peak_rss_mib() / 1024
    print(f"FEVER memory check: {len(prompts)} longest of {len(data.examples)} attribution prompts, tokens {min(lengths)}..{max(lengths)}, "
          f"max_batch_tokens={args.max_batch_tokens}, threads={args.threads}")
    print(f"attribution (attention+saliency+IxG): {sec:.1f} s ({len(prompts) / sec:.2f} ex/s)")
    print(f"RSS before attribution {rss_before:.2f} GiB; peak RSS after model load {after_load:.2f} GiB; peak RSS overall {peak:.2f} GiB "
          f"(target < 6 GiB: {'ok' if peak < 6 else 'EXCEEDED'})")
    return 0 if peak < 6 else 1


def main(argv=None) -> int:
    args = parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    return memory_check(args) if args.memory_check else full_run(args)


if __name__ == "__main__":
    sys.exit(main())
