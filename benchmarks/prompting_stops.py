"""Prompting rationales (UNBOUND and TOP-VAR) with and without the task's stop sequences.

One process, the embedded model, the same examples and prompts (TRUE label, the methods'
budgets), generated twice through the methods themselves: first with stops ignored (the
backend generates to EOS or the budget), then with the task's ``rationale_stop``. Prints the
generation-stage time of each, the replies whose generation the stop cut, and

* ``identical=X/Y``: rationales (positions, parse status and reason, not-found words, raw reply
  kept) equal with and without stops, as faithscope parses them (up to the stop);
* ``same_as_full_reply=X/Y``: rationales equal to parsing the whole unstopped reply (the parser
  before stops existed); it measures what the stop rule itself changes.

    PYTHONPATH=src FAITHSCOPE_DATA=../shared/data python benchmarks/prompting_stops.py --dataset esnli -n 20
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from typing import Sequence

from faithscope.data import load_dataset
from faithscope.methods import MethodContext, MethodOptions, RationaleRequest, get_method
from faithscope.models.base import truncate_at_stop
from faithscope.models.hf import HFBackend
from faithscope.models.loading import load_model
from faithscope.tasks import load_task
from faithscope.tasks.fit import PromptBuilder
from faithscope.types import Rationale

METHODS = ("prompt-unbound", "prompt-topk")


class Unstopped:
    """A backend that ignores stop sequences (the "before" of this benchmark); keeps each
    full reply by (prompt, budget)."""

    def __init__(self, backend: HFBackend):
        self.backend, self.context_window = backend, backend.context_window
        self.replies: dict[tuple[str, int], str] = {}

    def count_tokens(self, text: str) -> int:
        return self.backend.count_tokens(text)

    def generate(self, prompts: Sequence[str], max_new_tokens: Sequence[int], stop=None) -> list[str]:
        out = self.backend.generate(prompts, max_new_tokens)
        self.replies.update(zip(zip(prompts, max_new_tokens), out))
        return out


class Replay(Unstopped):
    """Answers with the replies an :class:`Unstopped` generated (no model call)."""

    def __init__(self, source: Unstopped):
        self.backend, self.context_window, self.replies = source.backend, source.context_window, source.replies

    def generate(self, prompts: Sequence[str], max_new_tokens: Sequence[int], stop=None) -> list[str]:
        return [self.replies[(p, b)] for p, b in zip(prompts, max_new_tokens)]


def rationales(backend, task, examples) -> tuple[list[Rationale], float]:
    """Rationales of both methods (TRUE label) and the seconds the methods took."""
    ctx = MethodContext(task, backend, PromptBuilder(task, backend), MethodOptions())
    out, start, cpu = [], time.perf_counter(), time.process_time()
    for name in METHODS:
        out.extend(get_method(name).explain([RationaleRequest(e, e.label, len(e.rationale), "alignment") for e in examples], ctx))
    CPU.append(time.process_time() - cpu)
    return out, time.perf_counter() - start


CPU: list[float] = []
"""Process CPU seconds of each :func:`rationales` call (steadier than wall time on a shared machine)."""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", default="esnli", choices=["esnli", "demo"])
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None,
                    help="torch intra-op threads (1 is steadier and faster on a machine shared with other jobs)")
    args = ap.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)

    data = load_dataset(args.dataset, n=args.n, seed=args.seed)
    task = load_task(data.task)
    backend = HFBackend(load_model())
    backend.generate(["Warm-up:"], 2)
    print(f"{len(data.examples)} {args.dataset} examples, methods {', '.join(METHODS)}, stops {list(task.rationale_stop)!r}")

    unstopped = Unstopped(backend)
    before, before_s = rationales(unstopped, task, data.examples)  # generated to EOS/budget, parsed up to the stop
    after, after_s = rationales(backend, task, data.examples)
    old_parser, _ = rationales(Replay(unstopped), replace(task, rationale_stop=()), data.examples)  # whole reply parsed
    asked = [r for r in unstopped.replies.values()]
    n_cut = sum(truncate_at_stop(r, task.rationale_stop) != r for r in asked)
    print(f"generation stage: before (no stops) {before_s:.1f} s, after (stops) {after_s:.1f} s, "
          f"speed-up {before_s / after_s:.2f}x; CPU {CPU[0]:.1f} s -> {CPU[1]:.1f} s ({CPU[0] / CPU[1]:.2f}x); "
          f"replies cut by a stop {n_cut}/{len(asked)}")

    def key(r: Rationale) -> tuple:
        return (r.positions, r.parsed, r.parse_error, r.not_found, r.skipped)

    print(f"same_as_full_reply={sum(key(a) == key(b) for a, b in zip(after, old_parser))}/{len(after)}")
    print(f"identical={sum(a == b for a, b in zip(after, before))}/{len(after)}")


if __name__ == "__main__":
    main()
