"""Self-consistency of the embedded model BEFORE any self-explanation training.

Per study task × style: faithful (unusable reply = not faithful), faithful among usable
replies, unusable share, accuracy and faithful∧correct on ``--eval-n`` evaluation examples
(the evaluation side of :func:`faithscope.selfexplain.splits.task_splits`, the same examples
the study evaluates), and the first ``--show`` raw replies per style.

    PYTHONPATH=src FAITHSCOPE_DATA=../shared/data python scripts/selfexplain_before.py --eval-n 20
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path

from faithscope.metrics import METRICS
from faithscope.metrics.self_consistency import RATE_METRICS
from faithscope.models.hf import HFBackend
from faithscope.models.loading import load_model
from faithscope.selfexplain import STYLES
from faithscope.selfexplain.checks import forced_choice, score_originals, unknown_on_original
from faithscope.selfexplain.evaluate import evaluate_styles, summarise
from faithscope.selfexplain.splits import task_splits
from faithscope.selfexplain.tasks import PAPER_TASKS, task_spec


def pct(x: float) -> str:
    return "—" if x != x else f"{100 * x:.0f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", default=",".join(PAPER_TASKS))
    ap.add_argument("--styles", default=",".join(STYLES))
    ap.add_argument("--mode", default="one", choices=("one", "many"))
    ap.add_argument("--eval-n", type=int, default=20)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--show", type=int, default=5, help="raw replies printed per task × style")
    ap.add_argument("--json", type=Path, default=None, help="write every CheckRow here (JSON Lines)")
    args = ap.parse_args()
    styles = args.styles.split(",")
    start = time.time()
    backend = HFBackend(load_model())
    print(f"model loaded in {time.time() - start:.0f} s")
    all_rows = []
    unknown_rates: dict[str, float] = {}
    for name in args.tasks.split(","):
        t0 = time.time()
        spec = task_spec(name)
        _, evaluation = task_splits(name, args.data_dir, train_n=0, eval_n=args.eval_n, seed=args.seed)
        originals = score_originals(backend, spec, evaluation)
        predictions = {k: forced_choice(v, spec.task.labels) for k, v in originals.items()}
        unknown_rates[name] = unknown_on_original(spec, originals)
        rows = evaluate_styles(backend, spec, evaluation, styles, args.mode, seed=args.seed, predictions=predictions,
                               task_name=name)
        all_rows.extend(rows)
        print(f"\n## {name} ({len(evaluation)} examples, {time.time() - t0:.0f} s); "
              f"unknown on the unedited input: {pct(unknown_rates[name])} %; predicted: "
              f"{dict(sorted(Counter(p.predicted for p in predictions.values()).items()))}")
        for style in styles:
            print(f"\n### {style}: first {args.show} replies")
            for r in [r for r in rows if r.style == style][: args.show]:
                verdict = r.failure or f"recheck={r.recheck} faithful={r.faithful}"
                print(f"- [{r.example_id} pred={r.predicted} gold={r.gold}{' target=' + r.target if r.target else ''}] "
                      f"{r.reply!r} -> {verdict}")
    heads = [METRICS[m].label for m in RATE_METRICS]
    print(f"\n| task | style | mode | N | {' | '.join(h + ' %' for h in heads)} | target = prediction | failures |")
    print("|" + "---|" * (6 + len(heads)))
    for rec in summarise(all_rows, seed=args.seed):
        cells = [f"{pct(rec[m])} [{pct(rec[m + '_ci'][0])}, {pct(rec[m + '_ci'][1])}]" for m in RATE_METRICS]
        print(f"| {rec['task']} | {rec['style']} | {rec['mode']} | {rec['n']} | {' | '.join(cells)} | {rec['target_is_prediction'] if rec['style'] == 'counterfactual' else ''} | {rec['failures'] or ''} |")
    if args.json:
        from dataclasses import asdict
        args.json.write_text("".join(json.dumps(asdict(r), ensure_ascii=False) + "\n" for r in all_rows), encoding="utf-8")
    print(f"\ntotal wall time {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
