"""Record real self-explanation replies of the embedded model for the parser test fixture.

Writes ``tests/fixtures/replies/smollm2_selfexplain.jsonl``: per demo example and order, the
raw reply and what :func:`faithscope.explanations.parse_reply` made of it when recorded.

    PYTHONPATH=src python scripts/record_selfexplain_replies.py -n 6
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from faithscope.data import load_dataset
from faithscope.explanations import SelfExplanationPrompt, load_selfexplain, parse_reply
from faithscope.models.hf import HFBackend
from faithscope.models.loading import load_model
from faithscope.tasks import load_task

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "replies" / "smollm2_selfexplain.jsonl"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=6)
    args = ap.parse_args()
    task = load_task("demo")
    spec = load_selfexplain(task)
    exs = load_dataset("demo").examples[: args.n]
    be = HFBackend(load_model())
    recs = []
    for order in ("pe", "ep"):
        sp = SelfExplanationPrompt(spec, task, order=order)
        prompts = [sp.render(e) for e in exs]
        if order == "pe":
            scores = be.score_labels(prompts, task.verbalizers)
            prompts = [sp.explanation_prompt(p, s.predicted) for p, s in zip(prompts, scores)]
        replies = be.generate(prompts, spec.max_new_tokens, stop=list(spec.stop))
        for e, r in zip(exs, replies):
            p = parse_reply(r, task.labels)
            recs.append({"source": "scripts/record_selfexplain_replies.py (SmolLM2-135M, demo)", "example_id": e.id,
                         "order": order, "reply": r, "explanation": p.explanation, "failure": p.failure})
    OUT.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in recs), encoding="utf-8")
    print(f"wrote {len(recs)} replies to {OUT}")


if __name__ == "__main__":
    main()
