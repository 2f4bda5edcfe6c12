"""Counterfactual test: faithscope's batched runner vs a per-intervention loop.

One process, the embedded model, e-SNLI test pairs (``esnli-plain``), the same interventions
(same seed), the same self-explanation prompts, budgets and stop sequences for both:

(a) faithscope: :class:`CounterfactualRunner` — all prompts of a batch of examples label-scored
    in one ``score_labels`` call and all explanations generated in one ``generate`` call
    (token-budgeted batches inside the backend), identical edited inputs once;
(b) the loop of the reference code (copenlu/nle_faithfulness): per example one forward for the
    original, then per intervention one forward and one generation, one prompt at a time.

Both compare per intervention: prediction changed and explanation mentions the inserted word.
Prints examples/s (and each phase's process CPU time, steadier than wall time on a shared
machine), the ratio and the peak RSS of each phase (a runs first; the process peak
after (a) is its peak, after (b) the overall one). Last line: ``ratio=X identical=Y/Z``.

    PYTHONPATH=src FAITHSCOPE_DATA=../shared/data python benchmarks/counterfactual.py -n 30 --positions 4 --words 4
"""

from __future__ import annotations

import argparse
import tempfile
import time

from faithscope.counterfactual.interventions import InterventionGenerator, apply
from faithscope.counterfactual.mentions import mentions
from faithscope.counterfactual.pos import Tagger
from faithscope.counterfactual.runner import CounterfactualConfig, CounterfactualRunner
from faithscope.counterfactual.store import CounterfactualStore
from faithscope.counterfactual.wordnet import word_lists
from faithscope.data import load_dataset
from faithscope.explanations import SelfExplanationPrompt, load_selfexplain, parse_reply
from faithscope.models.hf import HFBackend
from faithscope.models.loading import load_model
from faithscope.runs.memory import process_peak_rss_mib
from faithscope.tasks import load_task


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-n", type=int, default=30)
    ap.add_argument("--positions", type=int, default=4)
    ap.add_argument("--words", type=int, default=4)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--max-new-tokens", type=int, default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None,
                    help="torch intra-op threads (1 is steadier and faster on a machine shared with other jobs)")
    args = ap.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)

    examples = load_dataset("esnli-plain", n=args.n, seed=args.seed).examples
    task = load_task("esnli")
    spec = load_selfexplain(task)
    budget = args.max_new_tokens or spec.max_new_tokens
    gen = InterventionGenerator(word_lists(), Tagger.default(), positions=args.positions, words=args.words,
                                seed=args.seed, fields=spec.editable_fields)
    backend = HFBackend(load_model())
    print(f"{len(examples)} e-SNLI examples, {args.positions}x{args.words} interventions, budget {budget}, stops {spec.stop!r}")

    # (a) faithscope
    with tempfile.TemporaryDirectory() as d:
        store = CounterfactualStore(d)
        cfg = CounterfactualConfig(dataset="esnli", n=args.n, seed=args.seed, positions=args.positions,
                                   words=args.words, max_new_tokens=budget)
        runner = CounterfactualRunner(cfg, backend, task, examples, store, gen, batch_size=args.batch_size)
        t, c = time.perf_counter(), time.process_time()
        runner.run()
        fast_s, fast_cpu = time.perf_counter() - t, time.process_time() - c
        fast = {(r["example_id"], r["ikey"]): (bool(r["changed"]), bool(r["mention"])) for r in store.interventions()}
        store.close()
    peak_a = process_peak_rss_mib()
    print(f"faithscope: {fast_s:.1f} s ({fast_cpu:.1f} CPU s), {len(examples) / fast_s:.3f} examples/s "
          f"(scoring {runner.seconds['score']:.1f} s, generation {runner.seconds['generate']:.1f} s), peak RSS {peak_a:.0f} MiB")

    # (b) per-intervention loop
    prompt = SelfExplanationPrompt(spec, task, order="pe")
    t, c = time.perf_counter(), time.process_time()
    slow: dict[tuple[str, str], tuple[bool, bool]] = {}
    for ex in examples:
        base = prompt.render(ex)
        orig = backend.score_labels([base], task.verbalizers)[0]
        for iv in gen.generate(ex):
            p = prompt.render(apply(ex, iv))
            s = backend.score_labels([p], task.verbalizers)[0]
            reply = backend.generate([prompt.explanation_prompt(p, s.predicted)], budget, stop=list(spec.stop))[0]
            text = parse_reply(reply, task.labels).explanation
            slow[(ex.id, iv.key)] = (s.predicted != orig.predicted, mentions(text, iv.word))
    slow_s, slow_cpu = time.perf_counter() - t, time.process_time() - c
    print(f"loop: {slow_s:.1f} s ({slow_cpu:.1f} CPU s), {len(examples) / slow_s:.3f} examples/s, peak RSS (process) {process_peak_rss_mib():.0f} MiB")
    same = sum(fast.get(k) == v for k, v in slow.items())
    flips = sum(v[0] for v in slow.values())
    print(f"interventions {len(slow)}, flips {flips}, mentions {sum(v[1] for v in slow.values())}")
    print(f"CPU-time ratio {slow_cpu / fast_cpu:.2f} (less sensitive to other processes on a shared machine)")
    print(f"ratio={slow_s / fast_s:.2f} identical={same}/{len(slow)}")


if __name__ == "__main__":
    main()
