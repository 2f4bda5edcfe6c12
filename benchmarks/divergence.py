"""Why do two backends' greedy replies differ? The transformers model's logit margin where they part.

Reads the two run directories written by ``compare_backends.py`` (transformers and llama.cpp,
same examples), and for every prompting reply that differs finds the first token where the
two diverge, then asks the transformers model (fp32, de-quantised GGUF weights) how close that
step was: the logit gap between its own greedy token and the token the server chose (the
end-of-sequence token when the server's reply ends there). Small gaps mean the replies part at
near-ties, where the server's quantised (Q4_1 x Q8) kernels and fp32 arithmetic may pick
differently; a large gap would point to a real difference in prompt or decoding.

    python benchmarks/divergence.py runs/compare-backends --data-dir ../shared/data

``--serve FILE.gguf`` then regenerates the same greedy prompting replies with a llama.cpp server
running FILE (the embedded Q4_1 file, or the F32 copy written by ``dequantize_gguf.py``) with
``repeat_penalty`` 1.0 (llama-cpp-python's server default is 1.1 even at temperature 0) and
prints how many equal the transformers replies.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
from pathlib import Path

import torch

from faithscope.data import load_dataset
from faithscope.methods.prompting import reply_budget
from faithscope.models.hf import HFBackend
from faithscope.models.loading import load_model
from faithscope.runs.store import ResultStore
from faithscope.tasks import load_task
from faithscope.tasks.fit import PromptBuilder


def replies(db: Path, method: str) -> dict[str, str]:
    with sqlite3.connect(db) as c:
        return dict(c.execute("SELECT example_id, raw_reply FROM rationales WHERE method=? AND purpose='alignment'", (method,)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("compare_dir", type=Path)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--serve", type=Path, default=None, help="GGUF file to serve with llama.cpp and regenerate the replies with")
    args = ap.parse_args()
    a_db, b_db = args.compare_dir / "transformers" / "results.sqlite", args.compare_dir / "llama_cpp" / "results.sqlite"
    store = ResultStore.open_existing(args.compare_dir / "transformers")
    config = store.get_meta("config")
    store.close()
    data = load_dataset(config["dataset"], args.data_dir or config["data_dir"], n=config["n"], seed=config["seed"], first=config["first"])
    examples = {e.id: e for e in data.examples}
    loaded = load_model()
    backend = HFBackend(loaded)
    tok, model = loaded.tokenizer, loaded.model
    builder = PromptBuilder(load_task(data.task), backend)
    eos_ids = sorted({i for i in (tok.eos_token_id, tok.convert_tokens_to_ids("<|im_end|>"), tok.convert_tokens_to_ids("<|endoftext|>")) if i is not None})
    prompts: dict[str, dict[str, tuple[str, int]]] = {}
    for method, bounded in (("prompt-unbound", False), ("prompt-topk", True)):
        ra, rb = replies(a_db, method), replies(b_db, method)
        prompts[method] = {}
        gaps, eos_gaps, same, skipped = [], [], 0, 0
        for eid, x in ra.items():
            y = rb.get(eid)
            if y is None:
                continue
            ex = examples[eid]
            k = len(ex.rationale)
            budget = reply_budget(bounded, k, config["max_new_tokens"])
            prompts[method][eid] = (builder.rationale(ex, ex.label, k if bounded else None, budget).text, budget)
            if x == y:
                same += 1
                continue
            prompt = prompts[method][eid][0]
            xa = tok(x, add_special_tokens=False).input_ids
            yb = tok(y, add_special_tokens=False).input_ids
            t = 0
            while t < min(len(xa), len(yb)) and xa[t] == yb[t]:
                t += 1
            if t >= len(xa):  # ours stopped (budget or EOS) where the server went on: not a token choice we can compare
                skipped += 1
                continue
            ids = tok(prompt, add_special_tokens=False).input_ids + xa[:t]
            with torch.no_grad():
                logits = model(torch.tensor([ids])).logits[0, -1].float()
            theirs = max(logits[i].item() for i in eos_ids) if t >= len(yb) else logits[yb[t]].item()
            gaps.append(logits[xa[t]].item() - theirs)
            if t >= len(yb):
                eos_gaps.append(gaps[-1])
        gaps.sort()
        n = len(gaps)
        print(f"{method}: {len(ra)} replies, identical {same}, differing {n + skipped} "
              f"({skipped} where ours ended first); logit gap at the first differing token: "
              f"median {statistics.median(gaps) if gaps else float('nan'):.2f}, "
              f"< 0.5: {sum(g < 0.5 for g in gaps)}/{n}, < 1: {sum(g < 1 for g in gaps)}/{n}, < 2: {sum(g < 2 for g in gaps)}/{n}, "
              f"max {max(gaps) if gaps else float('nan'):.2f}; the server ended its reply there: {len(eos_gaps)} "
              f"(gap median {statistics.median(eos_gaps) if eos_gaps else float('nan'):.2f})")
    if args.serve is not None:
        regenerate(args.serve, prompts, a_db)


def regenerate(gguf_file: Path, prompts: dict[str, dict[str, tuple[str, int]]], a_db: Path) -> None:
    """Greedy replies from a llama.cpp server running ``gguf_file``, compared with ours."""
    from faithscope.models.llama_server import LlamaServer
    from faithscope.models.openai import OpenAIBackend

    with LlamaServer(gguf_file, n_ctx=4096, n_threads=1, model_alias="m") as url:
        # repeat_penalty 1.0: llama-cpp-python's server penalises repeats (1.1) even at temperature 0
        server = OpenAIBackend(url, "m", concurrency=1, timeout=300.0, extra_body={"repeat_penalty": 1.0})
        for method, items in prompts.items():
            ours = replies(a_db, method)
            by_budget: dict[int, list[str]] = {}
            for eid, (_, budget) in items.items():
                by_budget.setdefault(budget, []).append(eid)
            same = 0
            for budget, eids in by_budget.items():
                for eid, reply in zip(eids, server.generate([items[e][0] for e in eids], budget)):
                    same += reply == ours[eid]
            print(f"{method}: llama.cpp serving {gguf_file.name}: {same}/{len(items)} replies identical to the transformers backend's")
        server.close()


if __name__ == "__main__":
    main()
