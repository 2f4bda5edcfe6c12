"""Batched greedy generation: the generation budget against the gradient pass's budget.

Times ``HFBackend.generate`` on the same UNBOUND rationale prompts twice in one process: with
generation batches limited like a gradient batch (``--max-batch-tokens`` tokens, 16 rows: how
faithscope generated before) and with the generation budget (``GENERATION_BUDGET_FACTOR`` x
the tokens, 2 x the rows). Checks that the replies are identical and prints the peak resident
memory of each. Last line: ``ratio=X identical=K/N``.

Usage: ``python benchmarks/generation.py [--dataset esnli] [-n 64] [--max-new-tokens 64]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    from faithscope.models.batching import DEFAULT_MAX_BATCH_TOKENS

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="esnli", choices=("esnli", "fever", "medical_bios"))
    ap.add_argument("-n", type=int, default=64, help="examples (the first N of the file)")
    ap.add_argument("--max-new-tokens", type=int, default=64)
    ap.add_argument("--max-batch-tokens", type=int, default=DEFAULT_MAX_BATCH_TOKENS)
    ap.add_argument("--max-batch-size", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data-dir", default=os.environ.get("FAITHSCOPE_DATA") or str(REPO.parent / "shared" / "data"))
    args = ap.parse_args(argv)

    import torch

    from faithscope.data import load_dataset
    from faithscope.models.hf import HFBackend
    from faithscope.models.loading import load_model
    from faithscope.runs import memory
    from faithscope.tasks import load_task
    from faithscope.tasks.fit import PromptBuilder

    torch.set_num_threads(args.threads)
    loaded = load_model()
    data = load_dataset(args.dataset, args.data_dir, n=args.n, first=True)
    task = load_task(data.task)
    like_gradient = HFBackend(loaded, max_batch_tokens=args.max_batch_tokens, max_batch_size=args.max_batch_size,
                              generation_batch_tokens=args.max_batch_tokens, generation_batch_size=args.max_batch_size)
    generation = HFBackend(loaded, max_batch_tokens=args.max_batch_tokens, max_batch_size=args.max_batch_size)
    builder = PromptBuilder(task, generation)
    prompts = [builder.rationale(e, e.label, None, args.max_new_tokens).text for e in data.examples]
    lengths = [generation.count_tokens(p) for p in prompts]
    print(f"{args.dataset}: {len(prompts)} UNBOUND prompts, {min(lengths)}..{max(lengths)} tokens, {args.max_new_tokens} new tokens, "
          f"threads={torch.get_num_threads()}, load={os.getloadavg()[0]:.2f}")
    generation.generate(prompts[:2], 4)  # warm-up
    results = {}
    for name, backend in (("gradient budget", like_gradient), ("generation budget", generation)):
        memory.reset_peak()
        start = time.perf_counter()
        replies = backend.generate(prompts, args.max_new_tokens)
        sec = time.perf_counter() - start
        results[name] = (sec, replies)
        print(f"{name:<18} {backend.generation_batch_tokens:6d} tokens {backend.generation_batch_size:3d} rows  {sec:7.1f} s  "
              f"{len(prompts) / sec:5.2f} replies/s  peak RSS {memory.peak_rss_mib() / 1024:.2f} GiB", flush=True)
    same = sum(a == b for a, b in zip(results["gradient budget"][1], results["generation budget"][1]))
    print(f"ratio={results['gradient budget'][0] / results['generation budget'][0]:.3f} identical={same}/{len(prompts)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
