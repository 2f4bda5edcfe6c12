"""Each self-consistency check on constructed replies, with a backend of fixed scores."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest

from faithscope.errors import ConfigError
from faithscope.selfexplain import load_self_consistency
from faithscope.selfexplain import parse
from faithscope.selfexplain.checks import check_explanations, choose_target, predict
from faithscope.tasks import load_task
from faithscope.types import Example

from .fakes import FixedBackend

SPEC = load_self_consistency(load_task("demo"))
EX = Example("e1", {"premise": ("The", "dog", "runs", "in", "the", "park."), "hypothesis": ("A", "Dog", "moves.")}, "entailment")
EX2 = Example("e2", {"premise": ("A", "man", "sleeps."), "hypothesis": ("A", "man", "is", "awake.")}, "contradiction")


def redacted_is_unknown(prompt: str) -> str:
    """The model answers unknown exactly when the input it sees contains the marker."""
    return "unknown" if "[REDACTED]" in prompt.split("\n\n")[0] else "entailment"


def run(style, replies, answer=redacted_is_unknown, examples=(EX,), predicted=None, targets=None):
    backend = FixedBackend(answer)
    predicted = predicted or {e.id: e.label for e in examples}
    rows = check_explanations(backend, SPEC, list(examples), style, "one", replies, predicted, targets or {})
    return rows, backend


# --- attribution --------------------------------------------------------------------
def test_attribution_redacts_every_occurrence_in_all_fields_faithful():
    (row,), backend = run("attribution", [" dog, Runs"])
    assert row.failure is None and row.explanation == "dog | Runs"
    assert row.n_changed == 3  # "dog" (premise), "Dog" (hypothesis), "runs"
    (prompt,) = backend.scored_prompts
    assert prompt.startswith('Premise: "The [REDACTED] [REDACTED] in the park."\nHypothesis: "A [REDACTED] moves."')
    assert row.recheck == "unknown" and row.faithful is True and row.correct is True
    assert row.faithful_and_correct is True
    assert len(row.recheck_probs) == 4 and max(row.recheck_probs) == row.recheck_probs[-1]  # labels then unknown


def test_attribution_unfaithful_when_the_model_still_decides():
    (row,), _ = run("attribution", ["park"], answer=lambda p: "neutral")
    assert row.recheck == "neutral" and row.faithful is False and row.n_changed == 1
    assert row.faithful_and_correct is False


def test_attribution_keeps_all_listed_words_and_outer_punctuation():
    (row,), backend = run("attribution", ['"park." | the\nthe | cat'])
    assert row.explanation == "park. | the"  # "cat" is not in the input; "the" listed twice counts once
    assert row.n_changed == 3
    assert 'Premise: "[REDACTED] dog runs in [REDACTED] [REDACTED]."' in backend.scored_prompts[0]


@pytest.mark.parametrize("reply, reason", [("", parse.EMPTY), ("  ,  | ", parse.EMPTY), ("cat, bird", parse.NO_INPUT_WORD)])
def test_attribution_unparseable_replies_are_failures_not_scored(reply, reason):
    (row,), backend = run("attribution", [reply])
    assert row.failure == reason and row.faithful is None and row.recheck is None
    assert row.faithful_and_correct is None and row.correct is True
    assert backend.scored_prompts == []


# --- redaction ----------------------------------------------------------------------
def test_redaction_faithful_with_case_and_punctuation_differences():
    (row,), backend = run("redaction", [' Redacted hypothesis: "a [REDACTED] moves"\nmore text'])
    assert row.failure is None and row.explanation == "a [REDACTED] moves" and row.n_changed == 1
    assert 'Hypothesis: "a [REDACTED] moves"' in backend.scored_prompts[0]
    assert row.faithful is True


def test_redaction_one_marker_may_cover_a_phrase():
    (row,), _ = run("redaction", ["[REDACTED] moves."], answer=lambda p: "entailment")
    assert row.failure is None and row.n_changed == 2 and row.faithful is False


@pytest.mark.parametrize("reply, reason", [
    ("A Dog moves.", parse.NO_MARKER),
    ("A cat [REDACTED].", parse.NOT_A_REDACTION),        # a word changed outside the marker
    ("A Dog [REDACTED] quickly.", parse.NOT_A_REDACTION),  # a word added
    ("Dog [REDACTED]", parse.NOT_A_REDACTION),          # a word dropped
    ("\n\n", parse.EMPTY),
])
def test_redaction_that_is_not_a_redaction_fails(reply, reason):
    (row,), backend = run("redaction", [reply])
    assert row.failure == reason and row.faithful is None and backend.scored_prompts == []


# --- counterfactual -----------------------------------------------------------------
def sleeps_is_contradiction(prompt: str) -> str:
    return "contradiction" if "sleeps" in prompt.split("\n\n")[0].split("Hypothesis")[1] else "entailment"


def test_counterfactual_faithful_iff_recheck_is_the_target():
    rows, backend = run("counterfactual", ["A dog sleeps.", "A dog sleeps."], answer=sleeps_is_contradiction,
                        examples=(EX, replace(EX, id="e3")), targets={"e1": "contradiction", "e3": "neutral"})
    assert [r.recheck for r in rows] == ["contradiction", "contradiction"]
    assert [r.faithful for r in rows] == [True, False]
    assert [r.target for r in rows] == ["contradiction", "neutral"]
    assert rows[0].n_changed == 1 and rows[0].explanation == "A dog sleeps."
    assert len(backend.score_calls) == 1 and len(backend.scored_prompts) == 1  # identical edited inputs scored once


@pytest.mark.parametrize("reply, reason", [("a dog moves", parse.IDENTICAL), ('"A Dog moves ."', parse.IDENTICAL), ("", parse.EMPTY)])
def test_counterfactual_identical_or_empty_fails(reply, reason):
    (row,), backend = run("counterfactual", [reply], targets={"e1": "neutral"})
    assert row.failure == reason and row.faithful is None and backend.scored_prompts == []


def test_counterfactual_needs_a_target():
    with pytest.raises(ConfigError, match="needs a target"):
        run("counterfactual", ["A cat sleeps."], targets={})


def test_unknown_answer_of_a_recheck_is_not_a_label_answer():
    (row,), _ = run("counterfactual", ["A dog [REDACTED]."], answer=redacted_is_unknown, targets={"e1": "neutral"})
    assert row.recheck == "unknown" and row.faithful is False


# --- one call per check, original predictions ------------------------------------------
def test_one_score_call_for_all_rows_of_a_style():
    rows, backend = run("attribution", ["dog", "man", "zebra"], examples=(EX, EX2, replace(EX2, id="e4")))
    assert len(backend.score_calls) == 1 and len(backend.scored_prompts) == 2
    assert [r.failure for r in rows] == [None, None, parse.NO_INPUT_WORD]
    assert set(backend.score_calls[0][1]) == {"entailment", "contradiction", "neutral", "unknown"}


def test_predict_is_a_forced_choice_over_the_labels():
    logprobs = {"unknown": 0.0, "neutral": -1.0, "entailment": -2.0, "contradiction": -3.0}

    class Ranked(FixedBackend):
        def score_labels(self, prompts, verbalizers):
            from faithscope.types import LabelScores
            self.score_calls.append((list(prompts), dict(verbalizers)))
            return [LabelScores(tuple(verbalizers), tuple(logprobs[v] for v in verbalizers)) for _ in prompts]

    backend = Ranked(lambda p: "")
    out = predict(backend, SPEC, [EX, EX2, replace(EX, id="e5")])
    assert {k: v.predicted for k, v in out.items()} == {"e1": "neutral", "e2": "neutral", "e5": "neutral"}
    assert out["e1"].labels == SPEC.task.labels and "unknown" in backend.score_calls[0][1]
    assert len(backend.score_calls) == 1 and len(backend.scored_prompts) == 2  # e1 and e5 share a prompt


# --- targets --------------------------------------------------------------------------
def test_choose_target_from_gold_is_seeded_per_example():
    exs = [replace(EX, id=f"x{i}") for i in range(60)]
    targets = [choose_target(SPEC, e, "contradiction", seed=0) for e in exs]
    assert "entailment" not in targets  # gold = entailment (Madsen's code: target != gold)
    assert set(Counter(targets)) == {"contradiction", "neutral"}
    assert targets == [choose_target(SPEC, e, "contradiction", seed=0) for e in exs]
    assert targets != [choose_target(SPEC, e, "contradiction", seed=1) for e in exs]


def test_choose_target_from_prediction_and_two_labels():
    spec = replace(SPEC, target_from="prediction")
    assert {choose_target(spec, replace(EX, id=f"x{i}"), "neutral", 0) for i in range(30)} == {"entailment", "contradiction"}
    binary = load_self_consistency(load_task("sentiment140"))
    tweet = Example("t", {"text": ("so", "happy")}, "positive")
    assert choose_target(binary, tweet, "positive", 0) == "negative"
    assert choose_target(replace(binary, target_from="prediction"), tweet, "negative", 0) == "positive"


def test_evaluate_styles_without_predictions_scores_the_originals_first():
    from faithscope.selfexplain.evaluate import evaluate_styles

    backend = FixedBackend(redacted_is_unknown, replies=lambda p: " dog" if p.endswith("Words:") else " A [REDACTED] moves.")
    rows = evaluate_styles(backend, SPEC, [EX, EX2], ("attribution", "redaction", "counterfactual"), "many", seed=0,
                           task_name="nli")
    assert len(backend.generate_calls) == 1 and len(backend.score_calls) == 2
    prompts, budgets, stops = backend.generate_calls[0]
    assert len(prompts) == 6 and budgets == [24, 24, 64, 64, 64, 64] and stops == [["\n"]] * 6
    assert all("Use as many words as needed." in p for p in prompts)
    assert [r.failure for r in rows] == [None, parse.NO_INPUT_WORD, None, parse.NOT_A_REDACTION, None, None]
    assert [r.faithful for r in rows] == [True, None, True, None, False, False]  # the rewrite's recheck is unknown, not the target
    assert {r.task for r in rows} == {"nli"}
    assert rows[0].predicted == "entailment"  # the originals (no marker) are answered entailment
    assert all(r.target is None for r in rows[:4]) and [r.target != r.gold for r in rows[4:]] == [True, True]


def test_unknown_on_the_unedited_input_is_a_diagnostic():
    from faithscope.selfexplain.checks import score_originals, unknown_on_original

    backend = FixedBackend(lambda p: "unknown" if "man" in p.split("\n\n")[0] else "neutral")
    originals = score_originals(backend, SPEC, [EX, EX2])
    assert unknown_on_original(SPEC, originals) == 0.5
    assert predict(FixedBackend(lambda p: "unknown"), SPEC, [EX])["e1"].predicted in SPEC.task.labels


def test_summarise_counts_targets_equal_to_the_prediction():
    from faithscope.selfexplain.evaluate import summarise

    rows, _ = run("counterfactual", ["A dog sleeps.", "A dog sleeps."], answer=sleeps_is_contradiction,
                  examples=(EX, replace(EX, id="e3")), predicted={"e1": "neutral", "e3": "entailment"},
                  targets={"e1": "neutral", "e3": "contradiction"})
    (rec,) = summarise(rows, n_resamples=50)
    assert (rec["task"], rec["style"], rec["n"], rec["target_is_prediction"]) == ("demo", "counterfactual", 2, 1)
    assert rec["sc_faithful"] == 0.5 and rec["sc_correct"] == 0.5 and rec["failures"] == {}
