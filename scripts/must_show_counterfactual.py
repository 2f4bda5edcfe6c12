"""The #13 demonstration: CT, CCT, phi-CCT, TPR/FPR and verbosity with CIs for the embedded
SmolLM2-135M-Instruct on e-SNLI, ComVE and ECQA in instruction and human-imitated style, the same
on e-SNLI for a LoRA adapter of `faithscope finetune --preset cpu`, and phi-CCT through the
llama.cpp server backend (the embedded GGUF served by llama-cpp-python) on e-SNLI in both styles; then one
`faithscope report` over every run (the composed table, TPR-vs-FPR and CCT-vs-phi-CCT plots).

    python scripts/must_show_counterfactual.py --adapter runs/ft-cpu/adapters/epoch_2 \
        --output-dir runs/cf-must-show [-n 100] [--positions 2 --words 2]

Every run is an ordinary resumable `faithscope counterfactual` directory: rerun after a kill and
finished runs are skipped, a cut one continues. Each step's wall time is printed and written to
OUTPUT/timings.csv. Runs are ordered so that every kind of result (embedded, adapter, server)
exists early, then the remaining datasets.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import time
from pathlib import Path

from faithscope.models.embedded import embedded_gguf_path
from faithscope.models.llama_server import LlamaServer


def counterfactual(out: Path, name: str, args: argparse.Namespace, *extra: str, dataset: str, style: str) -> tuple[str, float]:
    run_dir = out / name
    cmd = [sys.executable, "-m", "faithscope.cli", "counterfactual", "--dataset", dataset, "--style", style,
           "-n", str(args.n), "--positions", str(args.positions), "--words", str(args.words),
           "--data-dir", args.data_dir, "--output-dir", str(run_dir), *extra]
    print("$", " ".join(cmd), flush=True)
    start = time.perf_counter()
    subprocess.run(cmd, check=True)
    return name, time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--adapter", type=Path, required=True, help="LoRA adapter directory (adapters/epoch_E of a finetune run)")
    ap.add_argument("--output-dir", type=Path, default=Path("runs/cf-must-show"))
    ap.add_argument("--data-dir", default=None, help="default: $FAITHSCOPE_DATA")
    ap.add_argument("-n", type=int, default=100)
    ap.add_argument("--positions", type=int, default=2)
    ap.add_argument("--words", type=int, default=2)
    ap.add_argument("--server-threads", type=int, default=2)
    ap.add_argument("--skip", default="", help="comma-separated run names to leave out")
    args = ap.parse_args()
    args.data_dir = args.data_dir or os.environ.get("FAITHSCOPE_DATA", "")
    if not args.data_dir:
        ap.error("give --data-dir or set FAITHSCOPE_DATA")
    if not args.adapter.is_dir():
        ap.error(f"--adapter {args.adapter} is not a directory")
    out = args.output_dir.resolve()
    out.mkdir(parents=True, exist_ok=True)
    skip = set(filter(None, args.skip.split(",")))
    timings: list[tuple[str, float]] = []

    def step(name: str, *extra: str, dataset: str, style: str) -> None:
        if name not in skip:
            timings.append(counterfactual(out, name, args, *extra, dataset=dataset, style=style))
            print(f"[{name}] {timings[-1][1]:.0f} s", flush=True)

    step("embedded-esnli-instruction", dataset="esnli", style="instruction")
    step("embedded-esnli-human", dataset="esnli", style="human")
    step("adapter-esnli-instruction", "--adapter", str(args.adapter.resolve()), dataset="esnli", style="instruction")
    server_styles = [s for s in ("instruction", "human") if f"server-esnli-{s}" not in skip]
    if server_styles:  # one server for both styles (the instruction style has no flips on this model, so phi-CCT needs human)
        with LlamaServer(embedded_gguf_path(), n_threads=args.server_threads, model_alias="smollm2",
                         n_ctx=2048, log_path=out / "llama_server.log") as base_url:
            for style in server_styles:
                step(f"server-esnli-{style}", "--backend", "openai", "--base-url", base_url, "--model", "smollm2",
                     "--extra-body", '{"repeat_penalty": 1.0}', dataset="esnli", style=style)
    for ds in ("comve", "ecqa"):
        for style in ("instruction", "human"):
            step(f"embedded-{ds}-{style}", dataset=ds, style=style)
    step("adapter-esnli-human", "--adapter", str(args.adapter.resolve()), dataset="esnli", style="human")

    with (out / "timings.csv").open("a", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows(timings)
    runs = sorted(p for p in out.iterdir() if (p / "results.sqlite").is_file())
    cmd = [sys.executable, "-m", "faithscope.cli", "report", *map(str, runs), "--out", str(out / "report")]
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
