"""Batched greedy generation, as faithscope generates now against how it generated before.

Times the same rationale prompts twice in one process:
- before: batches limited like a gradient batch (``--max-batch-tokens`` tokens, 16 rows) and,
  for TOP-VAR, one ``generate`` call per distinct reply budget (16 + 4k differs with k);
- now: the generation budget (``GENERATION_BUDGET_FACTOR`` x the tokens, 2 x the rows) and one
  call with a budget per prompt (a batch runs to its largest budget, each row keeps its own).
Checks that the replies are identical and prints the peak resident memory of each. Last line:
``ratio=X identical=K/N``.

Usage: ``python benchmarks/generation.py [--dataset esnli] [--prompt unbound|topk] [-n 64]``.
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
    ap.add_argument("--prompt", choices=("unbound", "topk"), default="unbound", help="UNBOUND (one budget) or TOP-VAR (16 + 4k per example)")
    ap.add_argument("--max-new-tokens", type=int, default=64, help="UNBOUND's reply budget")
    ap.add_argument("--max-batch-tokens", type=int, default=DEFAULT_MAX_BATCH_TOKENS)
    ap.add_argument("--max-batch-size", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--data-dir", default=os.environ.get("FAITHSCOPE_DATA") or str(REPO.parent / "shared" / "data"))
    args = ap.parse_args(argv)

    import torch

    from faithscope.data import load_dataset
    from faithscope.methods.prompting import reply_budget
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
    bounded = args.prompt == "topk"
    budgets = [reply_budget(bounded, len(e.rationale), args.max_new_tokens) for e in data.examples]
    prompts = [builder.rationale(e, e.label, len(e.rationale) if bounded else None, b).text for e, b in zip(data.examples, budgets)]
    lengths = [generation.count_tokens(p) for p in prompts]
    print(f"{args.dataset}: {len(prompts)} {args.prompt.upper()} prompts, {min(lengths)}..{max(lengths)} tokens, "
          f"budgets {min(budgets)}..{max(budgets)} new tokens ({len(set(budgets))} distinct), "
          f"threads={torch.get_num_threads()}, load={os.getloadavg()[0]:.2f}")
    generation.generate(prompts[:2], 4)  # warm-up

    def before() -> list[str]:
        replies = [""] * len(prompts)
        for budget in sorted(set(budgets)):
            idx = [i for i, b in enumerate(budgets) if b == budget]
            for i, reply in zip(idx, like_gradient.generate([prompts[i] for i in idx], budget)):
                replies[i] = reply
        return replies

    results = {}
    for name, fn, backend in (("before", before, like_gradient), ("now", lambda: generation.generate(prompts, budgets), generation)):
        memory.reset_peak()
        start = time.perf_counter()
        replies = fn()
        sec = time.perf_counter() - start
        results[name] = (sec, replies)
        print(f"{name:<7} {backend.generation_batch_tokens:6d} tokens {backend.generation_batch_size:3d} rows  {sec:7.1f} s  "
              f"{len(prompts) / sec:5.2f} replies/s  peak RSS {memory.peak_rss_mib() / 1024:.2f} GiB", flush=True)
    same = sum(a == b for a, b in zip(results["before"][1], results["now"][1]))
    print(f"ratio={results['before'][0] / results['now'][0]:.3f} identical={same}/{len(prompts)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
