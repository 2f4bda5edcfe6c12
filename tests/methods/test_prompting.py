"""The prompting methods end to end with a scripted backend (no model): reply fields from the
task file (issue 11 item 2), TOP-VAR with k = 0 (item 5), parse failures with their reason
(item 7), and what the store and the tables make of them."""

from __future__ import annotations

import json
import math
import sqlite3
from typing import Sequence

import pytest

from faithscope.errors import ConfigError
from faithscope.methods import MethodContext, MethodOptions, RationaleRequest, get_method
from faithscope.methods.prompting import instruction_words
from faithscope.reports.tables import alignment_row, faithfulness_row
from faithscope.runs.store import SCHEMA_VERSION, ResultStore
from faithscope.tasks import load_task
from faithscope.tasks.fit import PromptBuilder
from faithscope.types import Example, Rationale


class ScriptedBackend:
    """Answers every generation with the reply whose key occurs in the prompt; records prompts."""

    context_window = 100_000

    def __init__(self, replies: dict[str, str]):
        self.replies = replies
        self.prompts: list[str] = []

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def generate(self, prompts: Sequence[str], max_new_tokens, stop=None) -> list[str]:
        self.prompts.extend(prompts)
        return [next(r for key, r in self.replies.items() if key in p) for p in prompts]


def context(task_name: str, backend: ScriptedBackend) -> MethodContext:
    task = load_task(task_name)
    return MethodContext(task, backend, PromptBuilder(task, backend), MethodOptions())


HOOD = Example("hood", {"claim": tuple("Mount Hood is in the Pyrenees.".split()),
                        "evidence": tuple("Mount Hood is a volcano in Oregon . Mount Hood is tall .".split())},
               "refutes", frozenset({12}))


@pytest.mark.parametrize("method", ["prompt-unbound", "prompt-topk"])
def test_fever_reply_selects_evidence_positions_only(method):
    ctx = context("fever", ScriptedBackend({"Pyrenees": "Mount | Hood | Oregon"}))
    r = RationaleRequest(HOOD, "refutes", 3, "alignment")
    rat = get_method(method).explain([r], ctx)[0]
    assert rat.positions == (6, 7, 12)  # before the fix: (0, 1, 12), the claim's "Mount Hood"
    assert all(p >= len(HOOD.fields["claim"]) for p in rat.positions)
    assert rat.parsed and rat.parse_error is None and not rat.skipped


NLI = Example("nli", {"premise": tuple("A man plays a guitar .".split()), "hypothesis": tuple("A man plays music .".split())},
              "entailment", frozenset({4, 9}))


def test_esnli_reply_selects_from_premise_and_hypothesis():
    ctx = context("esnli", ScriptedBackend({"guitar": "guitar | music | man"}))
    rat = get_method("prompt-unbound").explain([RationaleRequest(NLI, "entailment", 2, "alignment")], ctx)[0]
    assert rat.positions == (1, 4, 9)  # "man" takes its first occurrence (the task's rule)


def test_topvar_with_k0_sends_no_prompt_and_records_a_skip():
    backend = ScriptedBackend({"guitar": "guitar | music"})
    ctx = context("esnli", backend)
    empty = Example("empty", NLI.fields, "neutral", frozenset())
    requests = [RationaleRequest(empty, "neutral", 0, "alignment"), RationaleRequest(NLI, "entailment", 2, "alignment"),
                RationaleRequest(empty, "neutral", 0, "faithfulness")]
    skipped, asked, skipped2 = get_method("prompt-topk").explain(requests, ctx)
    assert len(backend.prompts) == 1 and "top 2 most important" in backend.prompts[0]  # no "top 0 words" prompt
    for rat in (skipped, skipped2):
        assert (rat.k, rat.positions, rat.raw_reply, rat.parsed, rat.skipped, rat.parse_error) == (0, (), None, True, True, None)
    assert asked.positions == (4, 9) and not asked.skipped
    # UNBOUND has no k: an example without a human rationale is still asked
    unbound = get_method("prompt-unbound").explain([RationaleRequest(empty, "neutral", 0, "alignment")], ctx)[0]
    assert not unbound.skipped and unbound.raw_reply == "guitar | music"


def test_a_template_echo_is_recorded_as_a_parse_failure_with_its_reason():
    echo = "The answer is: | guitar\nThe top 2 most important words from the"
    ctx = context("esnli", ScriptedBackend({"guitar": echo}))
    rat = get_method("prompt-topk").explain([RationaleRequest(NLI, "entailment", 2, "alignment")], ctx)[0]
    assert (rat.parsed, rat.parse_error, rat.positions, rat.raw_reply) == (False, "echoes the prompt", (), echo)


def test_instruction_words_leave_out_the_input_words():
    task = load_task("esnli")
    f = PromptBuilder(task, ScriptedBackend({})).rationale(NLI, "entailment", 2, 24)
    words = instruction_words(f.text, f.word_spans)
    assert "guitar" not in words and "music" not in words
    assert " ".join(words).startswith('Premise: " " Hypothesis: " " Label: entailment Identify the top 2 most important words')


def test_store_round_trips_parse_error_and_skip(tmp_path):
    store = ResultStore.in_dir(tmp_path)
    rats = [Rationale("prompt-topk", (), "neutral", 0, raw_reply=None, parsed=True, skipped=True),
            Rationale("prompt-topk", (), "entailment", 2, raw_reply="- A\n- A\n- A", parsed=False, parse_error="degenerate repetition")]
    store.put_rationales([("e1", "alignment", rats[0]), ("e2", "alignment", rats[1])], {"reply_mapping": {"fields": ["premise"], "occurrence": "first"}})
    back = {eid: r for eid, _, r in store.rationales("prompt-topk")}
    assert back == {"e1": rats[0], "e2": rats[1]}
    store.close()


def test_a_store_of_another_schema_version_is_refused(tmp_path):
    store = ResultStore.in_dir(tmp_path)
    store.set_meta(schema=SCHEMA_VERSION - 1)
    store.close()
    with pytest.raises(ConfigError, match="schema"):
        ResultStore.in_dir(tmp_path)
    with pytest.raises(ConfigError, match="new --output-dir"):
        ResultStore.open_existing(tmp_path)
    db = sqlite3.connect(tmp_path / "results.sqlite")
    db.execute("UPDATE meta SET value=? WHERE key='schema'", (json.dumps(SCHEMA_VERSION),))
    db.commit()
    db.close()
    ResultStore.in_dir(tmp_path).close()


def test_tables_leave_skipped_k0_examples_out_of_topvar_cells_and_count_them():
    human = {"a": [0, 1], "b": [2], "z": []}
    rats = {"a": Rationale("prompt-topk", (0, 1), "x", 2, raw_reply="r", n_reply_words=2),
            "b": Rationale("prompt-topk", (3,), "x", 1, raw_reply="r", n_reply_words=1),
            "z": Rationale("prompt-topk", (), "x", 0, skipped=True)}
    row = alignment_row("prompt-topk", rats, human, n_resamples=20)
    assert (row.n, row.skipped) == (2, 1)
    assert row.micro_f1 == pytest.approx(2 * (2 / 3) * (2 / 3) / (4 / 3))  # tp 2, 3 predicted, 3 gold
    assert row.macro_f1 == pytest.approx(0.5)  # (1 + 0) / 2: z is not a 0
    assert row.parse_fail == 0.0
    masked = [{"example_id": eid, "flipped": f, "orig_predicted": "x", "predicted": "y" if f else "x", "orig_logprob": -0.1,
               "masked_logprob": -1.0 if f else -0.1, "orig_prob": 0.9, "masked_prob": 0.4 if f else 0.9, "n_masked": n}
              for eid, f, n in (("a", 1, 2), ("b", 0, 1), ("z", 0, 0))]
    frow = faithfulness_row("prompt-topk", masked, rats, n_resamples=20)
    assert (frow.n, frow.skipped, frow.flip_rate, frow.mean_masked) == (2, 1, 0.5, 1.5)
    assert math.isclose(frow.comprehensiveness, 0.25)


class ScriptedModel(ScriptedBackend):
    """A scripted backend the runner can drive: every prompt predicts the first label."""

    identity = {"model": "scripted"}
    supports_gradients = False
    no_gradient_reason = "scripted"

    def score_labels(self, prompts: Sequence[str], verbalizers: dict[str, str]):
        from faithscope.types import LabelScores

        labels = tuple(verbalizers)
        return [LabelScores(labels, tuple(-0.1 if i == 0 else -3.0 for i in range(len(labels)))) for _ in prompts]


def test_runner_stores_the_reply_mapping_and_the_k0_skip(tmp_path):
    from faithscope.runs.config import RunConfig
    from faithscope.runs.runner import run

    examples = [NLI, Example("empty", NLI.fields, "neutral", frozenset())]
    config = RunConfig(dataset="demo", methods=("prompt-topk",), output_dir=str(tmp_path), progress=False)
    result = run(config, backend=ScriptedModel({"guitar": "guitar | music"}), examples=examples)
    rats = {(eid, p): r for eid, p, r in result.store.rationales("prompt-topk")}
    assert rats[("empty", "alignment")].skipped and rats[("empty", "faithfulness")].skipped
    assert rats[("nli", "alignment")].positions == (4, 9)
    settings = {json.loads(s)["reply_mapping"]["occurrence"] for (s,) in result.store.db.execute("SELECT settings FROM rationales")}
    fields = {tuple(json.loads(s)["reply_mapping"]["fields"]) for (s,) in result.store.db.execute("SELECT settings FROM rationales")}
    assert settings == {"first"} and fields == {("premise", "hypothesis")}
    result.store.close()
