"""Same GGUF model, two backends: transformers (de-quantised to fp32) vs a llama.cpp server.

Runs ``faithscope run`` twice on the same examples (prompting methods plus the HUMAN/ALL/
RANDOM baselines): once with ``--backend transformers`` and once with ``--backend openai``
against ``python -m llama_cpp.server`` started here on 127.0.0.1 with the embedded SmolLM2
GGUF file. Prints both runs' summaries, then the agreement of predicted labels and of greedy
prompting rationales (identical selected positions; identical raw replies).

    python benchmarks/compare_backends.py --dataset esnli --data-dir ../shared/data -n 100
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import time
from pathlib import Path

from faithscope.models.embedded import embedded_gguf_path
from faithscope.models.llama_server import LlamaServer
from faithscope.models.loading import ModelSpec
from faithscope.reports import build_report, print_summary
from faithscope.runs.config import RunConfig
from faithscope.runs.runner import run

METHODS = ("prompt-unbound", "prompt-topk", "random", "human", "all")


def rows(db: Path, sql: str) -> dict:
    with sqlite3.connect(db) as c:
        return {tuple(r[:-1]): r[-1] for r in c.execute(sql)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="esnli")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("-n", type=int, default=100)
    ap.add_argument("--output-dir", default="runs/compare-backends")
    ap.add_argument("--top-logprobs", type=int, default=5000, help="llama.cpp can return thousands; SmolLM2 ranks some labels low")
    ap.add_argument("--server-threads", type=int, default=1)
    args = ap.parse_args()
    out = Path(args.output_dir)
    common = dict(dataset=args.dataset, data_dir=args.data_dir, n=args.n, methods=METHODS, progress=True)

    t0 = time.perf_counter()
    hf = run(RunConfig(**common, output_dir=str(out / "transformers")))
    t_hf = time.perf_counter() - t0
    with LlamaServer(embedded_gguf_path(), n_ctx=4096, n_threads=args.server_threads, model_alias="smollm2") as url:
        t0 = time.perf_counter()
        srv = run(RunConfig(**common, output_dir=str(out / "llama_cpp"), backend="openai", base_url=url,
                            model=ModelSpec(name="smollm2"), top_logprobs=args.top_logprobs, concurrency=1,
                            max_length=4096,  # the server's n_ctx: llama-cpp-python does not report it
                            # llama-cpp-python's server applies repeat_penalty 1.1 by default, even at
                            # temperature 0; 1.0 makes its replies greedy like the transformers backend's
                            extra_body={"repeat_penalty": 1.0}))
        t_srv = time.perf_counter() - t0
    for res in (hf, srv):
        print(print_summary(build_report([res.run_dir])))

    a, b = out / "transformers" / "results.sqlite", out / "llama_cpp" / "results.sqlite"
    pa = rows(a, "SELECT example_id, predicted FROM predictions")
    pb = rows(b, "SELECT example_id, predicted FROM predictions")
    src = rows(b, "SELECT example_id, source FROM predictions")
    label_agree = sum(pa[k] == pb[k] for k in pa) / len(pa)
    print(f"\nexamples: {len(pa)}; transformers run {t_hf:.0f}s, llama.cpp run {t_srv:.0f}s")
    print(f"predicted-label agreement: {label_agree:.1%}  (server labels from log-probs: "
          f"{sum(v == 'logprobs' for v in src.values())}, parsed from text: {sum(v == 'generation' for v in src.values())}, "
          f"unparseable: {sum(v == 'unparseable' for v in src.values())})")
    for method in ("prompt-unbound", "prompt-topk"):
        q = f"SELECT example_id, purpose, positions FROM rationales WHERE method='{method}'"
        qa = rows(a, q)
        qb = rows(b, q)
        ra = rows(a, q.replace("positions", "raw_reply"))
        rb = rows(b, q.replace("positions", "raw_reply"))
        keys = [k for k in qa if k in qb and k[1] == "alignment"]  # same (true) label in both runs
        same_pos = sum(json.loads(qa[k]) == json.loads(qb[k]) for k in keys) / len(keys)
        same_raw = sum(ra[k] == rb[k] for k in keys) / len(keys)
        print(f"{method}: identical rationale positions {same_pos:.1%}, identical raw replies {same_raw:.1%} (N={len(keys)}, alignment prompts)")


if __name__ == "__main__":
    main()
