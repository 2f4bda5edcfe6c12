"""Pseudo-explanation yield on the embedded model: kept/dropped per style, stage times, peak RSS.

    PYTHONPATH=src FAITHSCOPE_DATA=../shared/data python scripts/pseudo_yield.py DATASET TASK N [SEED]

e.g. ``demo demo 20`` or ``esnli-plain esnli 20`` (a seeded sample of N examples of the
dataset; predictions = the forced choice of ``checks.predict``; every style, the builder's
defaults: Input×Gradient, top m = 5). Prints one JSON object, then a few kept items.
"""

from __future__ import annotations

import json
import sys
import time
from collections import Counter

from faithscope.runs.memory import peak_rss_mib, reset_peak


class _Logged:
    """Delegates to a backend; prints every score_labels call (prompts, seconds) to stderr."""

    def __init__(self, inner):
        self.inner = inner

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def score_labels(self, prompts, verbalizers):
        t = time.perf_counter()
        out = self.inner.score_labels(prompts, verbalizers)
        print(f"score_labels: {len(prompts)} prompts, {time.perf_counter() - t:.1f} s", file=sys.stderr, flush=True)
        return out


def main(argv: list[str]) -> None:
    dataset, task, n = argv[0], argv[1], int(argv[2])
    seed = int(argv[3]) if len(argv) > 3 else 0
    t0 = time.perf_counter()
    from faithscope.data import load_dataset
    from faithscope.models.hf import HFBackend
    from faithscope.models.loading import load_model
    from faithscope.selfexplain import STYLES, load_self_consistency
    from faithscope.selfexplain.checks import predict
    from faithscope.selfexplain.pseudo import build_pseudo_explanations
    from faithscope.tasks import load_task

    reset_peak()
    loaded = load_model()
    backend = _Logged(HFBackend(loaded, max_batch_tokens=4096, max_batch_size=8))
    print(f"model loaded in {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    seconds = {"model load": time.perf_counter() - t0}
    spec = load_self_consistency(load_task(task))
    examples = load_dataset(dataset, n=n, seed=seed).examples
    t = time.perf_counter()
    predicted = {i: s.predicted for i, s in predict(backend, spec, examples).items()}
    seconds["predict"] = time.perf_counter() - t
    timings: dict[str, float] = {}
    t = time.perf_counter()
    res = build_pseudo_explanations(loaded, backend, spec, examples, STYLES, predicted=predicted, seed=seed, timings=timings)
    seconds["build (total)"] = time.perf_counter() - t
    seconds.update(timings)
    kept = Counter(i.kind for i in res.items)
    print(json.dumps({"dataset": dataset, "task": task, "n": len(examples),
                      "accuracy": sum(predicted[e.id] == e.label for e in examples) / max(1, len(examples)),
                      "predicted": Counter(predicted.values()), "kept": {s: kept.get(s, 0) for s in STYLES}, "drops": dict(res.drops),
                      "seconds": {k: round(v, 1) for k, v in seconds.items()}, "peak_rss_mib": round(peak_rss_mib())}, indent=1))
    for it in res.items[:9]:
        print(it.kind, it.example_id, repr(it.target))


if __name__ == "__main__":
    main(sys.argv[1:])
