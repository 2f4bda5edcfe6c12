"""The pseudo-faithful explanation builder on a fixed-score model (hand-computed answers)."""

from __future__ import annotations

import math

import pytest

from faithscope.errors import ConfigError
from faithscope.selfexplain import load_self_consistency
from faithscope.selfexplain.pseudo import build_pseudo_explanations, replace_word
from faithscope.tasks import load_task
from faithscope.types import Example

from .pseudo_fakes import WordModel, fixed_method, reference_check

SPEC = load_self_consistency(load_task("demo"))  # edit field: hypothesis

# e1: the cue is "sleeps" (contradiction +3); attribution ranks "A" and "outside." above it.
E1 = Example(id="e1", fields={"premise": ("A", "dog", "runs", "outside."), "hypothesis": ("The", "dog", "sleeps.")}, label="contradiction")
# e2: two cues for contradiction ("naps", "sleeps"): removing one leaves the other.
E2 = Example(id="e2", fields={"premise": ("A", "cat", "naps."), "hypothesis": ("The", "cat", "sleeps.")}, label="contradiction")
WEIGHTS = {"sleeps": {"contradiction": 3.0}, "naps": {"contradiction": 3.0}, "wake": {"entailment": 2.0},
           "dog": {"entailment": 0.1}}
SCORES = {"e1": [0.9, 0.1, 0.2, 0.8, 0.05, 0.3, 0.5], "e2": [0.1, 0.2, 0.9, 0.05, 0.3, 0.8]}
PRED = {"e1": "contradiction", "e2": "contradiction"}


def to_entailment(spec, example, predicted, seed):
    return "entailment"


CHECKERS = pytest.mark.parametrize("checker", [reference_check, None], ids=["reference-check", "checks.check_explanations"])


def build(model, styles, examples=(E1, E2), checker=reference_check, **kw):
    with fixed_method(SCORES) as name:
        return build_pseudo_explanations(None, model, SPEC, list(examples), styles, predicted=PRED, method=name, top_m=3,
                                         checker=checker, target_chooser=to_entailment, **kw)


@CHECKERS
def test_deletion_confirms_the_word_that_lowers_the_prediction_most_not_the_top_ranked(checker):
    model = WordModel(WEIGHTS)
    res = build(model, ["attribution"], examples=[E1], checker=checker)
    info = res.chosen["e1"]
    assert info["top"] == [0, 3, 6]  # A, outside., sleeps. by the fixed scores
    # Hand computation: logits contradiction 3.0, entailment 0.5 + 2 x 0.1 ("dog" twice), neutral 0.2;
    # deleting "A" or "outside." changes nothing (drop 0), deleting "sleeps." removes the +3.
    p0 = math.exp(3.0) / (math.exp(3.0) + math.exp(0.7) + math.exp(0.2))
    p6 = 1.0 / (1.0 + math.exp(0.7) + math.exp(0.2))
    assert info["drops"]["0"] == pytest.approx(0.0) and info["drops"]["3"] == pytest.approx(0.0)
    assert info["drops"]["6"] == pytest.approx(p0 - p6)
    assert info["position"] == 6 and info["word"] == "sleeps."
    [item] = res.items
    assert item.kind == "attribution" and item.target == " sleeps"  # punctuation stripped
    assert item.prompt == SPEC.explain_prompt("attribution", "one", E1, "contradiction")
    assert not res.drops


def test_all_deletions_are_scored_in_one_deduplicated_call():
    model = WordModel(WEIGHTS)
    build(model, ["attribution"])
    first = model.calls[0]  # the deletion call (the checks come later)
    assert len(first) == len(set(first))
    # 2 originals + e1: top {0,3,6} ∪ edit-field top {6,5,4}; e2: top {2,5,4} ∪ edit {5,4,3}
    assert len(first) == 2 + 5 + 4


@CHECKERS
def test_redaction_uses_the_best_word_inside_the_edit_field_and_fails_when_a_cue_remains(checker):
    model = WordModel(WEIGHTS)
    res = build(model, ["redaction"], checker=checker)
    assert res.chosen["e1"]["edit_position"] == 6
    [item] = res.items
    assert item.example_id == "e1" and item.target == " The dog [REDACTED]"
    # e2: "naps." (premise) is chosen overall; inside the hypothesis "sleeps." is; redacting it
    # leaves "naps" (+3 contradiction > unknown's 1.0): the check fails and is counted.
    assert res.chosen["e2"]["word"] == "naps." and res.chosen["e2"]["edit_word"] == "sleeps."
    assert res.drops == {"redaction: fails own check": 1}


@CHECKERS
def test_counterfactual_substitute_really_changes_the_prediction_and_failures_are_counted(checker):
    model = WordModel(WEIGHTS)
    res = build(model, ["counterfactual"], checker=checker)
    [item] = res.items
    assert item.example_id == "e1" and item.target == " The dog wake."  # antonym of sleep
    assert res.chosen["e1"]["substitute_source"] == "antonym"
    assert item.prompt == SPEC.explain_prompt("counterfactual", "one", E1, "contradiction", "entailment")
    edited = Example(id="x", fields={"premise": E1.fields["premise"], "hypothesis": tuple(item.target.split())}, label="")
    before = model.score_labels([SPEC.classify_prompt(E1)], SPEC.answer_verbalizers())[0].predicted
    after = model.score_labels([SPEC.classify_prompt(edited)], SPEC.answer_verbalizers())[0].predicted
    assert (before, after) == ("contradiction", "entailment")
    # e2 keeps "naps" in the premise: no substitute of "sleeps." reaches entailment.
    assert res.drops == {"counterfactual: no substitute flips": 1}
    assert res.chosen["e2"]["candidates_tried"] >= 1


def test_same_pos_words_are_scored_only_where_no_antonym_flips():
    model = WordModel(WEIGHTS)
    build(model, ["counterfactual"])
    deletion, antonyms, same_pos = model.calls[:3]
    # round 1: the one antonym ("wake") of each example's word, in one call
    assert len(antonyms) == 2 and all("wake." in p for p in antonyms)
    # round 2: e2 only (e1's antonym flipped), its 10 same-POS words, in one call
    assert len(same_pos) == 10 and all('Premise: "A cat naps."' in p for p in same_pos)


@CHECKERS
def test_all_styles_together_count_every_example_once_per_style(checker):
    model = WordModel(WEIGHTS)
    res = build(model, ["attribution", "redaction", "counterfactual"], checker=checker)
    kept = {(i.kind, i.example_id) for i in res.items}
    assert kept == {("attribution", "e1"), ("redaction", "e1"), ("counterfactual", "e1")}
    assert sum(res.drops.values()) == 3  # e2 in every style
    assert res.drops["attribution: fails own check"] == 1


def test_an_unparsed_own_reply_is_counted_by_its_reason():
    def unparsing(backend, spec, examples, style, mode, replies, predicted, targets):
        rows = reference_check(backend, spec, examples, style, mode, replies, predicted, targets)
        return [r.__class__(**{**r.__dict__, "failure": "empty", "faithful": None, "recheck": None}) for r in rows]

    with fixed_method(SCORES) as name:
        res = build_pseudo_explanations(None, WordModel(WEIGHTS), SPEC, [E1], ["attribution"], predicted=PRED, method=name,
                                        top_m=3, checker=unparsing, target_chooser=to_entailment)
    assert not res.items and res.drops == {"attribution: unparsed (empty)": 1}


def test_a_counterfactual_word_without_candidates_is_counted():
    e = Example(id="e3", fields={"premise": ("A", "dog."), "hypothesis": ("xqzv",)}, label="neutral")
    # "xqzv" is tagged NOUN (unknown word) and has no antonym: same-POS words are candidates;
    # with same_pos=0 there are none.
    with fixed_method({"e3": [0.1, 0.2, 0.9]}) as name:
        res = build_pseudo_explanations(None, WordModel(WEIGHTS), SPEC, [e], ["counterfactual"], predicted={"e3": "neutral"},
                                        method=name, top_m=2, same_pos=0, checker=reference_check, target_chooser=to_entailment)
    assert res.drops == {"counterfactual: no substitute candidates": 1} and not res.items


def test_a_counterfactual_target_equal_to_the_prediction_is_dropped_and_counted():
    with fixed_method(SCORES) as name:
        res = build_pseudo_explanations(None, WordModel(WEIGHTS), SPEC, [E1], ["counterfactual"], predicted={"e1": "entailment"},
                                        method=name, top_m=3, checker=reference_check, target_chooser=to_entailment)
    assert res.drops == {"counterfactual: target equals the prediction": 1} and not res.items


@CHECKERS
def test_strict_unknown_drops_explanations_whose_check_passes_without_any_redaction(checker):
    # SmolLM2 answers "unknown" on most unredacted inputs: then any redaction "passes".
    model = WordModel(WEIGHTS, unknown_clean=5.0)
    loose = build(model, ["attribution", "redaction"], examples=[E1], checker=checker)
    assert loose.chosen["e1"]["unknown_unredacted"] is True
    assert loose.chosen["e1"]["word"] == "sleeps."  # the forced choice ignores unknown's probability
    assert {i.kind for i in loose.items} == {"attribution", "redaction"}
    strict = build(model, ["attribution", "redaction"], examples=[E1], checker=checker, strict_unknown=True)
    assert not strict.items
    assert strict.drops == {"attribution: unknown already without redaction": 1, "redaction: unknown already without redaction": 1}
    assert build(WordModel(WEIGHTS), ["attribution"], examples=[E1], strict_unknown=True).items  # informative check: kept


def test_bad_arguments_are_one_line_config_errors():
    model = WordModel(WEIGHTS)
    with pytest.raises(ConfigError, match="style"):
        build(model, ["summary"])
    with pytest.raises(ConfigError, match="top_m"):
        build_pseudo_explanations(None, model, SPEC, [E1], ["attribution"], predicted=PRED, top_m=0, checker=reference_check, target_chooser=to_entailment)
    with pytest.raises(ConfigError, match="no prediction"):
        build_pseudo_explanations(None, model, SPEC, [E1], ["attribution"], predicted={}, checker=reference_check, target_chooser=to_entailment)
    with pytest.raises(ConfigError, match="not an attribution method"):
        build_pseudo_explanations(None, model, SPEC, [E1], ["attribution"], predicted=PRED, method="random",
                                  checker=reference_check, target_chooser=to_entailment)


def test_replace_word_deletes_or_replaces_one_global_position():
    assert replace_word(E1, 6, None).fields["hypothesis"] == ("The", "dog")
    assert replace_word(E1, 1, "cat").fields["premise"] == ("A", "cat", "runs", "outside.")
    with pytest.raises(ValueError):
        replace_word(E1, 7, None)


def test_on_the_embedded_model_the_substitution_decision_matches_an_independent_rescoring(backend, loaded_model):
    """Input×Gradient on SmolLM2 with the real checks, on two demo pairs (SmolLM2 predicts
    entailment on every demo pair; the target is each pair's runner-up label, the easiest to
    reach). Every candidate substitution of the chosen word is classified again here, one
    prompt per call: an example is kept iff some candidate yields the target, a kept
    counterfactual does yield it (the original did not), and a drop names the reason."""
    from faithscope.data import load_dataset
    from faithscope.selfexplain.checks import predict
    from faithscope.selfexplain.substitutes import candidates

    examples = [e for e in load_dataset("demo").examples if e.id in ("demo-17", "demo-47")]
    scores = predict(backend, SPEC, examples)
    predicted = {i: s.predicted for i, s in scores.items()}
    runner_up = {i: sorted(zip(s.probs, s.labels))[-2][1] for i, s in scores.items()}
    res = build_pseudo_explanations(loaded_model, backend, SPEC, examples, ["counterfactual"], predicted=predicted, top_m=2, same_pos=5,
                                    target_chooser=lambda spec, e, p, seed: runner_up[e.id])
    assert len(res.items) + sum(res.drops.values()) == len(examples)
    verbal = SPEC.answer_verbalizers()
    kept = {it.example_id: it for it in res.items}
    for e in examples:
        info, target = res.chosen[e.id], runner_up[e.id]
        g = info["edit_position"]
        start = e.field_offsets()[SPEC.edit_field]
        flips = []
        for token, _ in candidates(tuple(e.fields[SPEC.edit_field]), g - start, same_pos=5):
            words = list(e.fields[SPEC.edit_field])
            words[g - start] = token
            edited = Example(id=e.id, fields={**e.fields, SPEC.edit_field: tuple(words)}, label=e.label)
            if backend.score_labels([SPEC.classify_prompt(edited)], verbal)[0].predicted == target:
                flips.append(" ".join(words))
        if e.id in kept:
            assert kept[e.id].target.strip() in flips
            assert predicted[e.id] != target
            assert kept[e.id].prompt == SPEC.explain_prompt("counterfactual", "one", e, predicted[e.id], target)
        # the builder found a flipping substitute exactly when the independent rescoring did
        assert (info.get("substitute") is not None) == bool(flips), (e.id, flips, info)
        if info.get("substitute") is not None:
            assert " ".join(replace_word(e, g, info["substitute"]).fields[SPEC.edit_field]) in flips
    assert set(res.drops) <= {"counterfactual: no substitute flips", "counterfactual: fails own check"}
