"""Size and load time of ``report.html`` (the example explorer) for a 300-example e-SNLI run
with all methods, without running a model.

A full 300-example e-SNLI run takes long on a CPU; the explorer's cost depends only on what
the store holds, so this script writes a store of the same shape through ``ResultStore``: the
real e-SNLI examples (words, human rationales, labels), a prediction per example, per method
and purpose a rationale with one score per word (attribution methods) or a reply of about the
paper's length (prompting, both UNBOUND and TOP-VAR), RANDOM with its draws, HUMAN and ALL, and
a masked row per example and method. Scores and outcomes are seeded random numbers.

Then it builds the report and opens it in headless Chromium (Selenium + chromedriver),
``--repeats`` times, and prints the page size and the time from navigation start to the
explorer's first render (``data-explorer-ready``, ms of ``performance.now()``) and to
``driver.get`` returning (load event).

    python benchmarks/report_explorer.py [--n 300] [--data-dir ../shared/data] [--out /tmp/fs-explorer-bench]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import time
from pathlib import Path

from faithscope.data import load_dataset
from faithscope.reports import build_report
from faithscope.runs.store import ResultStore
from faithscope.types import LabelScores, Rationale

LABELS = ("entailment", "neutral", "contradiction")
SCORED = ("attention", "saliency", "input_x_gradient", "integrated_gradients", "occlusion")
PROMPTING = ("prompt-unbound", "prompt-topk")
METHODS = PROMPTING + SCORED + ("random", "human", "all")


def synthesise(run_dir: Path, n: int, data_dir: str | None, seed: int = 0) -> Path:
    """Write a store of ``n`` e-SNLI examples x every method (see the module docstring)."""
    rng = random.Random(seed)
    examples = load_dataset("esnli", data_dir, n=n, seed=seed).examples
    if run_dir.exists():
        shutil.rmtree(run_dir)
    store = ResultStore.in_dir(run_dir)
    store.set_meta(config={"dataset": "esnli", "methods": list(METHODS), "mask": "delete", "model": {"name": "synthetic"},
                           "attribution": {"target": "probability", "reduction": "l2", "attention": "mean"}},
                   model_identity={"model": "synthetic (benchmark)"}, versions={}, labels=list(LABELS), task="esnli",
                   sample_note=f"{n} e-SNLI examples, synthetic results")
    store.bind_examples(examples)
    preds = {}
    for e in examples:
        lps = tuple(rng.uniform(-4, -0.1) for _ in LABELS)
        preds[e.id] = LabelScores(LABELS, lps)
    store.put_predictions((e.id, s, None) for e, s in zip(examples, preds.values()))
    settings = {"options": {"attribution": {"target": "probability", "reduction": "l2", "attention": "mean"}}}
    masked = []
    for purpose in ("alignment", "faithfulness"):
        items = []
        for e in examples:
            target = e.label if purpose == "alignment" else preds[e.id].predicted
            words = e.words
            k = max(1, len(e.rationale))
            for m in METHODS:
                if m in SCORED:
                    scores = tuple(rng.uniform(0, 1) for _ in words)
                    top = tuple(sorted(sorted(range(len(words)), key=lambda i: -scores[i])[:k]))
                    rat = Rationale(m, top, target, k, scores=scores)
                elif m in PROMPTING:
                    chosen = tuple(sorted(rng.sample(range(len(words)), min(k, len(words)))))
                    reply = " | ".join(words[i] for i in chosen) + " " + " ".join(rng.choice(words) for _ in range(20))
                    rat = Rationale(m, chosen, target, k if m == "prompt-topk" else None, raw_reply=reply, parsed=rng.random() > 0.05,
                                    n_reply_words=len(chosen))
                elif m == "random":
                    draws = tuple(tuple(sorted(rng.sample(range(len(words)), min(k, len(words))))) for _ in range(99))
                    rat = Rationale(m, draws[0], target, k, draws=draws[1:] if purpose == "alignment" else ())
                elif m == "human":
                    rat = Rationale(m, tuple(sorted(e.rationale)), target, len(e.rationale))
                else:
                    rat = Rationale(m, tuple(range(len(words))), target, len(words))
                items.append((e.id, purpose, rat))
                if purpose == "faithfulness":
                    s = preds[e.id]
                    flipped = int(rng.random() < 0.3)
                    new = rng.choice([lab for lab in LABELS if lab != s.predicted]) if flipped else s.predicted
                    op = max(s.probs)
                    mp = rng.uniform(0, op)
                    masked.append((e.id, m, "delete", len(rat.positions), f"sha-{m}-{e.id}", s.predicted, new, flipped,
                                   max(s.logprobs), max(s.logprobs) - rng.uniform(0, 2), op, mp))
        store.put_rationales(items, settings)
    store.put_masked({}, masked)
    store.close()
    return run_dir


def load_times(html: Path, repeats: int) -> list[tuple[float, float]]:
    """(ms to the explorer's first render, s for ``driver.get``) per fresh page load."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    opts = webdriver.ChromeOptions()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1300,1600"):
        opts.add_argument(arg)
    opts.binary_location = shutil.which("chromium") or "chromium"
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or "chromedriver"), options=opts)
    out = []
    try:
        for _ in range(repeats):
            driver.get("about:blank")
            t0 = time.perf_counter()
            driver.get(html.as_uri())
            ready = WebDriverWait(driver, 30).until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("data-explorer-ready"))
            out.append((float(ready), time.perf_counter() - t0))
        errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
        if errors:
            print("browser errors:", errors)
    finally:
        driver.quit()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--out", default="/tmp/fs-explorer-bench")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    run_dir = synthesise(Path(args.out) / "run", args.n, args.data_dir)
    t = time.perf_counter()
    html = build_report([run_dir], bootstrap_resamples=200).html
    build_s = time.perf_counter() - t
    size = html.stat().st_size
    blob = html.read_text(encoding="utf-8").split('id="fs-data">', 1)[1].split("</script>", 1)[0]
    times = load_times(html, args.repeats)
    print(json.dumps({"examples": args.n, "methods": len(METHODS), "html": str(html), "size_mb": round(size / 1e6, 3),
                      "blob_mb": round(len(blob.encode()) / 1e6, 3), "report_build_s": round(build_s, 1),
                      "explorer_ready_ms": [round(r) for r, _ in times], "page_load_s": [round(s, 2) for _, s in times]}, indent=1))


if __name__ == "__main__":
    main()
