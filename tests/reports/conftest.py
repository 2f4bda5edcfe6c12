"""A tiny hand-written result store (no model): three examples, hand-computable numbers.

Examples (global word positions; human rationale):
  e1  5 words, human {1, 2}, gold entailment,    predicted entailment
  e2  4 words, human {0},    gold entailment,    predicted neutral
  e3  6 words, human {3,4,5}, gold contradiction, predicted contradiction

Alignment rationales:
  attention    e1 {1,3}, e2 {0}, e3 {0,1,5}            -> micro 0.5, macro (0.5+1+1/3)/3
  prompt-topk  e1 {1} (reply 2 words, 1 not found), e2 unparsed <script> reply,
               e3 {3,4} (reply 3 words, 1 not found)   -> micro P 1, R .5, F1 2/3; parse fail 1/3;
                                                          not-in-input 2/5
  random       draw 0 = the human rationale (F1 1), draw 1 disjoint (F1 0) -> mean 0.5
  human        the human rationale
Masked rows (strategy delete): ``all`` flips e1 only; ``attention`` flips e1, e2, with
log-prob changes -2, -0.5, 0 and comprehensiveness .4, .1, 0.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from faithscope.runs.store import ResultStore
from faithscope.types import Example, LabelScores, Rationale

LABELS = ("entailment", "neutral", "contradiction")
XSS = "<script>alert(1)</script>"


ATTENTION_SCORES = {"e1": (0.1, 0.9, 0.2, 0.8, 0.3), "e2": (0.5, 0.1, 0.3, 0.2), "e3": (0.9, 0.8, 0.1, 0.2, 0.3, 0.7)}
"""Per-word attention scores stored with ``attention_scores=True`` (for AUPRC)."""


def _scores(pred: str) -> LabelScores:
    return LabelScores(LABELS, tuple(-0.1 if lab == pred else -3.0 for lab in LABELS))


def build_store(run_dir: Path, adapter: str | None = None, dataset: str = "tiny_set & co", all_flips: tuple[int, int, int] = (1, 0, 0),
                attention_e3: tuple[int, ...] = (0, 1, 5), attention_scores: bool = False) -> Path:
    """Write the tiny run into ``run_dir`` and return it."""
    store = ResultStore.in_dir(run_dir)
    examples = [
        Example("e1", {"premise": ("A", "dog", "runs", "<b>fast</b>"), "hypothesis": ("Dogs",)}, "entailment", frozenset({1, 2})),
        Example("e2", {"premise": ("Two", "cats"), "hypothesis": ("sleep", "well")}, "entailment", frozenset({0})),
        Example("e3", {"premise": ("It", "is", "raining"), "hypothesis": ("sun", "shines", "bright")}, "contradiction", frozenset({3, 4, 5})),
    ]
    methods = ["prompt-topk", "attention", "random", "human", "all-words"]
    identity = {"model": "tiny-model"} | ({"adapter": adapter} if adapter else {})
    store.set_meta(config={"dataset": dataset, "methods": methods, "mask": "delete", "model": {"name": "tiny-model", "adapter": adapter}},
                   model_identity=identity, versions={"python": "3.11"}, labels=list(LABELS), task="demo", sample_note="first 3", peak_rss_mib=100.0)
    store.bind_examples(examples)
    preds = {"e1": "entailment", "e2": "neutral", "e3": "contradiction"}
    store.put_predictions((eid, _scores(p), None) for eid, p in preds.items())
    sc = ATTENTION_SCORES if attention_scores else {"e1": None, "e2": None, "e3": None}
    align = [
        ("e1", Rationale("attention", (1, 3), "entailment", 2, scores=sc["e1"])),
        ("e2", Rationale("attention", (0,), "entailment", 1, scores=sc["e2"])),
        ("e3", Rationale("attention", attention_e3, "contradiction", 3, scores=sc["e3"])),
        ("e1", Rationale("prompt-topk", (1,), "entailment", 2, raw_reply="dog | foo", parsed=True, not_found=("foo",), n_reply_words=2)),
        ("e2", Rationale("prompt-topk", (), "entailment", 1, raw_reply=XSS, parsed=False, n_reply_words=0)),
        ("e3", Rationale("prompt-topk", (3, 4), "contradiction", 3, raw_reply="sun | shines | bar", parsed=True, not_found=("bar",), n_reply_words=3)),
        ("e1", Rationale("random", (1, 2), "entailment", 2, draws=((3, 4),))),
        ("e2", Rationale("random", (0,), "entailment", 1, draws=((1,),))),
        ("e3", Rationale("random", (3, 4, 5), "contradiction", 3, draws=((0, 1, 2),))),
    ]
    align += [(e.id, Rationale("human", tuple(sorted(e.rationale)), e.label, len(e.rationale))) for e in examples]
    store.put_rationales(((eid, "alignment", r) for eid, r in align), {})
    faith = [(eid, Rationale("prompt-topk", (), preds[eid], 1, raw_reply="x", parsed=eid != "e3")) for eid in preds]
    store.put_rationales(((eid, "faithfulness", r) for eid, r in faith), {})
    rows = []
    for i, eid in enumerate(("e1", "e2", "e3")):
        orig = preds[eid]
        rows.append((eid, "all-words", "delete", 5, f"sha-all-{eid}", orig, "neutral" if all_flips[i] and orig != "neutral" else ("entailment" if all_flips[i] else orig),
                     all_flips[i], -0.1, -0.2, 0.9, 0.8))
    att = [(-1.0, -3.0, 0.6, 0.2, 1), (-2.0, -2.5, 0.5, 0.4, 1), (-0.5, -0.5, 0.7, 0.7, 0)]
    for eid, (olp, mlp, op, mp, fl) in zip(("e1", "e2", "e3"), att):
        rows.append((eid, "attention", "delete", 2, f"sha-att-{eid}", preds[eid], "entailment" if fl and preds[eid] != "entailment" else ("neutral" if fl else preds[eid]),
                     fl, olp, mlp, op, mp))
    rows += [(eid, "prompt-topk", "delete", 0, f"sha-p-{eid}", preds[eid], preds[eid], 0, -0.1, -0.1, 0.5, 0.5) for eid in preds]
    store.put_masked({}, [r + (0,) for r in rows])  # n_outside: no truncation here
    store.add_timing("label_scoring", 1.5, 3)
    store.close()
    return run_dir


@pytest.fixture
def tiny_run(tmp_path: Path) -> Path:
    return build_store(tmp_path / "run")


@pytest.fixture
def make_run(tmp_path: Path) -> Callable[..., Path]:
    def make(name: str, **kwargs) -> Path:
        return build_store(tmp_path / name, **kwargs)
    return make
