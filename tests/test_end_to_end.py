"""End to end: run -> store -> report, checked against independent computations (issue 11 item 19).

A run goes through the Python API, the report through the CLI. The numbers the report writes
(``table2_alignment.csv``, ``table4_faithfulness.csv``) are then recomputed without faithscope's
metric, masking or scoring code:

* the result store is read with plain ``sqlite3``;
* alignment from the stored position sets with scikit-learn (``f1_score``, ``precision_score``,
  ``recall_score`` on 0/1 word vectors; ``precision_recall_curve`` + ``auc`` for AUPRC), ERASER's
  instances (per example; per (example, field)) and its rule that an instance with neither a
  human rationale nor a prediction is left out of macro averages; HUMAN must be exactly 100;
* the RANDOM row from draws regenerated from their documented seeding (sha256 of
  ``seed:example:draw``), not from the stored draws;
* Table 4's cells with numpy from the stored masked/perturbed rows;
* the ALL-words flip rate, and the masked RANDOM input of one example, by building the masked
  prompts from the task file's template with ``str.format`` and scoring them with a plain
  transformers forward per label (teacher-forced verbalizer tokens, one sequence, no padding,
  no cache), independent of the backend's batching.

The default test avoids prompting methods (generation is most of a run's time on a CPU); the
slow one adds them and runs MedicalBios bios with and without a human rationale (k = 0).
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import os
import random
import sqlite3
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import auc, f1_score, precision_recall_curve, precision_score, recall_score

from faithscope.cli import main
from faithscope.runs.config import RunConfig
from faithscope.runs.runner import run

TASKS = Path(__file__).resolve().parents[1] / "src" / "faithscope" / "tasks"
BINS = (0.01, 0.05, 0.1, 0.2, 0.5)


# -- the stored rows, read with sqlite3 ------------------------------------------------
@dataclass
class Stored:
    examples: dict[str, dict]
    rationales: dict[tuple[str, str, str], dict]
    masked: dict[tuple[str, str], dict]
    perturbed: dict[tuple[str, str, str, float], dict]
    predictions: dict[str, dict]
    hidden: dict[str, list[int]]
    config: dict


def read_store(run_dir: Path) -> Stored:
    db = sqlite3.connect(f"file:{run_dir / 'results.sqlite'}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        examples = {r["example_id"]: {"human": json.loads(r["human"]), "fields": json.loads(r["fields"]), "label": r["label"],
                                      "n_words": r["n_words"]} for r in db.execute("SELECT * FROM examples")}
        rationales = {}
        for r in db.execute("SELECT * FROM rationales"):
            rationales[(r["example_id"], r["method"], r["purpose"])] = {
                "positions": json.loads(r["positions"]), "scores": json.loads(r["scores"]) if r["scores"] else None,
                "draws": json.loads(r["draws"]) if r["draws"] else [], "skipped": bool(r["skipped"]), "k": r["k"]}
        masked = {(r["example_id"], r["method"]): dict(r) for r in db.execute("SELECT * FROM masked WHERE strategy='delete'")}
        perturbed = {(r["example_id"], r["method"], r["kind"], round(r["fraction"], 6)): dict(r)
                     for r in db.execute("SELECT * FROM perturbed WHERE strategy='delete'")}
        predictions = {r["example_id"]: {"labels": json.loads(r["labels"]), "logprobs": json.loads(r["logprobs"]), "predicted": r["predicted"]}
                       for r in db.execute("SELECT * FROM predictions")}
        hidden = {r["example_id"]: json.loads(r["positions"]) for r in db.execute("SELECT * FROM hidden")}
        config = json.loads(db.execute("SELECT value FROM meta WHERE key='config'").fetchone()[0])
    finally:
        db.close()
    return Stored(examples, rationales, masked, perturbed, predictions, hidden, config)


def read_csv(path: Path) -> dict[str, dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return {r["method"]: r for r in csv.DictReader(f)}


def value(rec: dict[str, str], key: str) -> float:
    return float(rec[key]) if rec[key] != "" else math.nan


# -- alignment with scikit-learn -----------------------------------------------------------
def vector(positions, lo: int, hi: int) -> np.ndarray:
    v = np.zeros(hi - lo, dtype=int)
    for p in positions:
        if lo <= p < hi:
            v[p - lo] = 1
    return v


def field_bounds(example: dict) -> list[tuple[int, int]]:
    out, pos = [], 0
    for words in example["fields"].values():
        out.append((pos, pos + len(words)))
        pos += len(words)
    return out


def alignment_values(preds: dict[str, list[int]], examples: dict[str, dict]) -> dict[str, float]:
    """micro/macro F1, pooled P and R of one draw of a method's rationales (by example id)."""
    ids = list(preds)
    gold_all = np.concatenate([vector(examples[e]["human"], 0, examples[e]["n_words"]) for e in ids])
    pred_all = np.concatenate([vector(preds[e], 0, examples[e]["n_words"]) for e in ids])
    per_example, per_field = [], []
    for e in ids:
        n = examples[e]["n_words"]
        g, p = vector(examples[e]["human"], 0, n), vector(preds[e], 0, n)
        if g.any() or p.any():  # ERASER: an instance with neither side is left out
            per_example.append(f1_score(g, p, zero_division=0))
        for lo, hi in field_bounds(examples[e]):
            g, p = vector(examples[e]["human"], lo, hi), vector(preds[e], lo, hi)
            if g.any() or p.any():
                per_field.append(f1_score(g, p, zero_division=0))
    return {"alignment_f1_micro": f1_score(gold_all, pred_all, zero_division=0),
            "alignment_f1_macro": float(np.mean(per_example)), "alignment_f1_macro_field": float(np.mean(per_field)),
            "precision": precision_score(gold_all, pred_all, zero_division=0), "recall": recall_score(gold_all, pred_all, zero_division=0)}


def sklearn_auprc(scores: dict[str, list[float]], examples: dict[str, dict]) -> float:
    values = []
    for e, s in scores.items():
        for lo, hi in field_bounds(examples[e]):
            g = vector(examples[e]["human"], lo, hi)
            if g.any():
                precision, recall, _ = precision_recall_curve(g, np.asarray(s[lo:hi], dtype=float))
                values.append(auc(recall, precision))
    return float(np.mean(values))


def regenerated_draws(seed: int, example_id: str, n_words: int, k: int, draws: int) -> list[list[int]]:
    """The RANDOM baseline's draws from their documented seeding (``methods/baselines.py``)."""
    out = []
    for d in range(draws):
        digest = hashlib.sha256(f"{seed}:{example_id}:{d}".encode()).digest()
        out.append(sorted(random.Random(int.from_bytes(digest[:8], "big")).sample(range(n_words), min(k, n_words))))
    return out


# -- label scoring with a plain transformers forward -------------------------------------
class PlainScorer:
    """Sum of the teacher-forced verbalizer tokens' log-probabilities after ``prompt``, one
    unpadded forward per (prompt, label); predicted = the highest."""

    def __init__(self, loaded_model, task: str):
        self.model, self.tokenizer = loaded_model.model, loaded_model.tokenizer
        spec = tomllib.loads((TASKS / f"{task}.toml").read_text(encoding="utf-8"))
        self.template, self.verbalizers = spec["prompts"]["classification"], spec["verbalizers"]
        self.cache: dict[str, dict[str, float]] = {}

    def prompt(self, example: dict, drop=frozenset()) -> str:
        """The classification prompt with the words at positions ``drop`` deleted."""
        fields, pos = {}, 0
        for name, words in example["fields"].items():
            fields[name] = " ".join(w for i, w in enumerate(words) if pos + i not in drop)
            pos += len(words)
        return self.template.format(**fields)

    def logprobs(self, prompt: str) -> dict[str, float]:
        import torch

        if prompt not in self.cache:
            base = self.tokenizer(prompt).input_ids
            out = {}
            for label, verbalizer in self.verbalizers.items():
                v = self.tokenizer(verbalizer, add_special_tokens=False).input_ids
                with torch.no_grad():
                    logits = self.model(input_ids=torch.tensor([base + v])).logits[0].float()
                lp = torch.log_softmax(logits, dim=-1)
                out[label] = float(sum(lp[len(base) - 1 + t, v[t]] for t in range(len(v))))
            self.cache[prompt] = out
        return self.cache[prompt]

    def predicted(self, prompt: str) -> str:
        lp = self.logprobs(prompt)
        return max(lp, key=lp.get)

    def prob(self, prompt: str, label: str) -> float:
        lp = self.logprobs(prompt)
        z = np.logaddexp.reduce(list(lp.values()))
        return float(np.exp(lp[label] - z))


# -- the checks ------------------------------------------------------------------------------
def check_table2(stored: Stored, t2: dict[str, dict[str, str]], methods: tuple[str, ...]) -> None:
    seed, draws = stored.config["seed"], stored.config["random_draws"]
    examples = stored.examples
    assert set(t2) == set(methods)
    for method in methods:
        rats = {e: stored.rationales[(e, method, "alignment")] for e in examples}
        asked = {e: r for e, r in rats.items() if not r["skipped"]}  # TOP-VAR with k = 0: not asked, left out
        assert int(t2[method]["n"]) == len(asked), method
        if method == "random":
            per_draw = [{e: regenerated_draws(seed, e, examples[e]["n_words"], len(examples[e]["human"]), draws)[d] for e in asked}
                        for d in range(draws)]
            for e, r in asked.items():  # the stored draws are the documented ones
                assert [r["positions"], *r["draws"]] == [draw[e] for draw in per_draw], e
            vals = [alignment_values(p, examples) for p in per_draw]
            expected = {k: float(np.mean([v[k] for v in vals])) for k in vals[0]}
        else:
            expected = alignment_values({e: r["positions"] for e, r in asked.items()}, examples)
        for key, want in expected.items():
            assert value(t2[method], key) == pytest.approx(want, abs=1e-9), (method, key)
        if all(r["scores"] is not None for r in asked.values()):
            assert value(t2[method], "auprc") == pytest.approx(sklearn_auprc({e: r["scores"] for e, r in asked.items()}, examples), abs=1e-9)
        else:
            assert t2[method]["auprc"] == "", method
    human = t2["human"]
    for key in ("alignment_f1_micro", "alignment_f1_macro", "alignment_f1_macro_field", "iou_f1", "precision", "recall"):
        assert value(human, key) == 1.0, key  # HUMAN against itself: exactly 100


def check_table4(stored: Stored, t4: dict[str, dict[str, str]], methods: tuple[str, ...]) -> None:
    assert set(t4) == set(methods)
    for method in methods:
        ids = [e for e in stored.examples if not stored.rationales[(e, method, "faithfulness")]["skipped"]]
        rows = [stored.masked[(e, method)] for e in ids]
        rec = t4[method]
        assert int(rec["n"]) == len(ids)
        orig = np.array([r["orig_prob"] for r in rows])
        assert value(rec, "flip_rate") == pytest.approx(np.mean([r["flipped"] for r in rows]), abs=1e-12)
        assert value(rec, "logprob_change") == pytest.approx(np.mean([r["masked_logprob"] - r["orig_logprob"] for r in rows]), abs=1e-9)
        assert value(rec, "comprehensiveness") == pytest.approx(np.mean(orig - [r["masked_prob"] for r in rows]), abs=1e-9)
        kept = [stored.perturbed[(e, method, "kept", 1.0)]["masked_prob"] for e in ids]
        assert value(rec, "sufficiency") == pytest.approx(np.mean(orig - np.array(kept)), abs=1e-9)
        if stored.rationales[(ids[0], method, "faithfulness")]["scores"] is not None:
            for kind, key in (("aopc_removed", "aopc_comprehensiveness"), ("aopc_kept", "aopc_sufficiency")):
                per_example = [np.mean([o - stored.perturbed[(e, method, kind, b)]["masked_prob"] for b in BINS]) for e, o in zip(ids, orig)]
                assert value(rec, key) == pytest.approx(float(np.mean(per_example)), abs=1e-9), (method, key)
        else:
            assert rec["aopc_comprehensiveness"] == rec["aopc_sufficiency"] == "", method


def check_rescored(stored: Stored, t4: dict[str, dict[str, str]], scorer: PlainScorer) -> None:
    """ALL-words flip rate and one example's RANDOM masked input, scored independently."""
    flips = 0
    for e, ex in stored.examples.items():
        original = scorer.prompt(ex)
        label = scorer.predicted(original)
        assert label == stored.predictions[e]["predicted"], e
        everything = frozenset(range(ex["n_words"]))
        masked = scorer.prompt(ex, everything)
        row = stored.masked[(e, "all-words")]
        assert row["prompt_sha"] == hashlib.sha256(masked.encode()).hexdigest()  # the same masked input
        assert row["masked_prob"] == pytest.approx(scorer.prob(masked, label), abs=1e-4)
        assert row["orig_prob"] == pytest.approx(scorer.prob(original, label), abs=1e-4)
        flips += scorer.predicted(masked) != label
    assert value(t4["all-words"], "flip_rate") == pytest.approx(flips / len(stored.examples), abs=1e-12)

    e, ex = next((e, ex) for e, ex in stored.examples.items() if ex["human"])
    draw0 = regenerated_draws(stored.config["seed"], e, ex["n_words"], len(ex["human"]), 1)[0]
    assert stored.rationales[(e, "random", "faithfulness")]["positions"] == draw0
    masked = scorer.prompt(ex, frozenset(draw0))
    row = stored.masked[(e, "random")]
    label = scorer.predicted(scorer.prompt(ex))
    assert row["prompt_sha"] == hashlib.sha256(masked.encode()).hexdigest()
    assert (row["predicted"], row["flipped"]) == (scorer.predicted(masked), int(scorer.predicted(masked) != label))
    assert row["masked_prob"] == pytest.approx(scorer.prob(masked, label), abs=1e-4)
    assert row["n_masked"] == len(draw0)


def run_and_check(out: Path, config: RunConfig, task: str, loaded_model, capsys, examples=None) -> tuple[Stored, dict, dict]:
    """Run ``config`` (on ``examples`` if given), report it through the CLI, check every number."""
    res = run(config, loaded_model=loaded_model, examples=examples)
    res.store.close()
    main(["report", str(out)])
    printed = capsys.readouterr().out
    assert "accuracy" in printed and "zero-rate" in printed
    for name in ("table2_alignment.md", "table2_alignment.csv", "table2_alignment.tex", "table4_faithfulness.md", "first_outputs.md", "report.html"):
        assert (out / "report" / name).is_file(), name
    stored = read_store(out)
    assert not stored.hidden  # nothing truncated: every word is visible, the recomputation needs no window
    assert len(stored.predictions) == len(stored.examples)
    t2, t4 = read_csv(out / "report" / "table2_alignment.csv"), read_csv(out / "report" / "table4_faithfulness.csv")
    check_table2(stored, t2, config.methods)
    check_table4(stored, t4, config.methods)
    check_rescored(stored, t4, PlainScorer(loaded_model, task))
    return stored, t2, t4


def test_demo_run_numbers_match_independent_computations(tmp_path, loaded_model, capsys):
    methods = ("input_x_gradient", "random", "human", "all-words")
    out = tmp_path / "demo"
    cfg = RunConfig(dataset="demo", n=4, methods=methods, output_dir=str(out), progress=False)
    stored, _, _ = run_and_check(out, cfg, "demo", loaded_model, capsys)
    assert len(stored.examples) == 4 and len(stored.rationales) == 4 * 2 * len(methods)


@pytest.mark.slow
def test_medical_bios_with_prompting_numbers_match(tmp_path, loaded_model, capsys, shared_data):
    """MedicalBios, two bios without a human rationale (k = 0) and two with, prompting
    included: HUMAN is 100 micro and macro, TOP-VAR leaves the k = 0 bios out (counted), every
    cell matches the recomputation."""
    from faithscope.data import load_dataset

    bios = load_dataset("medical_bios", str(shared_data)).examples
    chosen = [e for e in bios if not e.rationale][:2] + [e for e in bios if e.rationale][:2]
    assert len(chosen) == 4 and sum(not e.rationale for e in chosen) == 2
    methods = ("prompt-topk", "prompt-unbound", "input_x_gradient", "random", "human", "all-words")
    out = tmp_path / "bios"
    cfg = RunConfig(dataset="medical_bios", data_dir=str(shared_data), methods=methods, output_dir=str(out), progress=False, max_new_tokens=24)
    _, t2, t4 = run_and_check(out, cfg, "medical_bios", loaded_model, capsys, examples=chosen)
    assert (int(t2["prompt-topk"]["n"]), int(t2["prompt-topk"]["skipped_k0"])) == (2, 2)
    assert (int(t4["prompt-topk"]["n"]), int(t4["prompt-topk"]["skipped_k0"])) == (2, 2)
    assert int(t2["human"]["n"]) == 4  # the k = 0 bios stay in N; left out of the macro averages (neither side)


@pytest.mark.slow
def test_cli_run_on_real_esnli(tmp_path, shared_data, loaded_model):
    """The CLI on 30 real e-SNLI pairs with the default methods; every number checked as above."""
    from faithscope.methods import DEFAULT_METHODS

    out = tmp_path / "esnli"
    proc = subprocess.run([sys.executable, "-m", "faithscope.cli", "run", "--dataset", "esnli", "--data-dir", str(shared_data), "-n", "30",
                           "--output-dir", str(out), "--no-progress"], capture_output=True, text=True, timeout=3000, env=dict(os.environ))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "accuracy" in proc.stdout
    summary = json.loads((out / "report" / "summary.json").read_text())
    assert summary
    assert (out / "report" / "report.html").stat().st_size > 1000
    stored = read_store(out)
    assert not stored.hidden and len(stored.examples) == 30
    t2, t4 = read_csv(out / "report" / "table2_alignment.csv"), read_csv(out / "report" / "table4_faithfulness.csv")
    check_table2(stored, t2, DEFAULT_METHODS)
    check_table4(stored, t4, DEFAULT_METHODS)
    check_rescored(stored, t4, PlainScorer(loaded_model, "esnli"))
