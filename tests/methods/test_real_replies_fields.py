"""The parser with each task's reply fields and the prompt's instruction text, on 48 more REAL
SmolLM2-135M replies (tests/fixtures/replies/smollm2_replies_fields.jsonl).

Collected with the embedded model, greedy, plain prompts, the methods' budgets (UNBOUND 64 new
tokens, TOP-VAR 16 + 4k), the TRUE label: e-SNLI (6 examples, ``load_dataset(n=6, seed=1)``),
FEVER (3, seed 1, prompts fitted to 512 tokens: ``truncated_words``), MedicalBios (3, seed 1),
both prompts; then TOP-VAR only for examples with 1 <= k <= 3 from the demo set and e-SNLI
(n=60, seed 2). Each record keeps the example's fields so the prompt can be rebuilt.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from faithscope.methods.prompting import instruction_words, selectable_positions
from faithscope.methods.reply_parser import PARSE_FAILURES, parse_reply
from faithscope.tasks import load_task
from faithscope.tasks.render import rationale_prompt
from faithscope.types import Example

FIXTURE = Path(__file__).parents[1] / "fixtures" / "replies" / "smollm2_replies_fields.jsonl"
REAL = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
TASKS = {"esnli": "esnli", "fever": "fever", "medical": "medical_bios", "demo": "demo"}


def parse(record: dict, **overrides):
    task = load_task(TASKS[record["source"].split("_")[0]])
    ex = Example(record["example_id"], {k: tuple(v) for k, v in record["fields"].items()}, record["label"])
    prompt = rationale_prompt(task, ex, record["label"], record["k"])
    kwargs = {"selectable": selectable_positions(ex, task.selectable_reply_fields), "occurrence": task.reply_occurrence,
              "instruction_words": instruction_words(prompt.text, prompt.word_spans)} | overrides
    return ex, parse_reply(record["reply"], ex.words, record["k"], **kwargs)


def test_real_fever_reply_selects_evidence_not_claim_words():
    r = next(r for r in REAL if r["source"].startswith("fever") and "most important words in the evidence" in r["reply"])
    ex, p = parse(r)
    n_claim = len(ex.fields["claim"])
    assert p.parsed and p.positions and min(p.positions) >= n_claim  # "Awkward Black Girl" of the evidence
    _, whole = parse(r, selectable=None)  # the old rule: first occurrence anywhere
    assert any(i < n_claim for i in whole.positions)  # ... took the claim's "Awkward Black Girl"


@pytest.mark.parametrize("prefix, reason", [
    ('\n\nThe most relevant words to the most important words are:\n\n- "A"\n- "A"', "degenerate repetition"),
    ('\n\nThe most relevant words to the most important words are:\n\n- "Dog herding"\n- "The dogs are trying', "degenerate repetition"),
    ("\n\nThe answer is: [1, 2, 3, 4, 5", "mostly not input words"),  # FEVER TOP-VAR, k = 29: numbers, no words
    ("\n\nThe answer is: ||\n\nThe answer is: ||", "no items"),
    ("\n\nThe person in the bio is a nurse.", "not a list"),
])
def test_real_failures_and_their_reasons(prefix, reason):
    r = next(r for r in REAL if r["reply"].startswith(prefix))
    _, p = parse(r)
    assert (p.parsed, p.reason, p.positions) == (False, reason, ())


@pytest.mark.parametrize("record", REAL, ids=lambda r: f"{r['source']}-{r['example_id']}-{r['method']}")
def test_real_replies_invariants_with_reply_fields(record):
    ex, p = parse(record)
    task = load_task(TASKS[record["source"].split("_")[0]])
    allowed = selectable_positions(ex, task.selectable_reply_fields)
    assert set(p.positions) <= allowed and len(set(p.positions)) == len(p.positions)
    if record["k"] is not None:
        assert len(p.positions) <= record["k"]
    assert p.parsed == (p.reason is None)
    if not p.parsed:
        assert p.reason in PARSE_FAILURES and p.positions == () and p.not_found == ()
