"""Rendering: spans of input words, masking that never touches instruction text, truncation."""

from __future__ import annotations

import pytest

from faithscope.errors import ConfigError
from faithscope.tasks import list_tasks, load_task
from faithscope.tasks.fit import PromptBuilder
from faithscope.tasks.render import attribution_prompt, classification_prompt, rationale_prompt, render
from faithscope.types import Example

NLI = Example("e1", {"premise": ("A", "dog", "runs."), "hypothesis": ("An", "animal", "moves.")}, "entailment", frozenset({1, 4}))


def test_tasks_are_data_files():
    assert {"demo", "esnli", "fever", "medical_bios"} <= set(list_tasks())
    fever = load_task("fever")
    assert fever.labels == ("supports", "refutes") and fever.truncate_field == "evidence"
    assert fever.prompts["classification"].endswith("Label:")


def test_word_spans_point_at_the_words():
    p = classification_prompt(load_task("esnli"), NLI)
    assert [p.text[s:e] for _, s, e in p.word_spans] == list(NLI.words)
    assert [g for g, _, _ in p.word_spans] == list(range(6))
    assert p.text.startswith('Premise and Hypothesis: "A dog runs. An animal moves."')


def test_masking_deletes_only_input_words():
    task = load_task("esnli")
    full = classification_prompt(task, NLI)
    everything = classification_prompt(task, NLI, drop=frozenset(range(NLI.n_words)))
    assert everything.text.startswith('Premise and Hypothesis: " "')
    # the instruction survives untouched, including words that also occur in the input
    assert everything.text[len('Premise and Hypothesis: " "'):] == full.text[len('Premise and Hypothesis: "A dog runs. An animal moves."'):]
    masked = classification_prompt(task, NLI, drop=frozenset({1, 4}))
    assert masked.text.startswith('Premise and Hypothesis: "A runs. An moves."')
    ph = classification_prompt(task, NLI, drop=frozenset({1}), placeholder="_")
    assert ph.text.startswith('Premise and Hypothesis: "A _ runs. An animal moves."')
    # positions beyond the input never reach the template
    outside = classification_prompt(task, NLI, drop=frozenset({99}))
    assert outside.text == full.text


def test_rationale_and_attribution_prompts():
    task = load_task("esnli")
    topk = rationale_prompt(task, NLI, "entailment", 2)
    assert 'Premise: "A dog runs." Hypothesis: "An animal moves." Label: entailment' in topk.text
    assert "top 2 most important words" in topk.text and "pipe-separated (|)" in topk.text
    unbound = rationale_prompt(task, NLI, "neutral", None)
    assert "top" not in unbound.text.split("\n\n")[1].split()[:3]
    att = attribution_prompt(task, NLI)
    assert att.text == classification_prompt(task, NLI).text  # the label is appended as tokens


def test_render_rejects_missing_label():
    with pytest.raises(ValueError):
        render("{premise} {label}", NLI)


class CharBackend:
    """Counts one token per character, to exercise truncation without a model."""

    context_window = 200

    def count_tokens(self, text: str) -> int:
        return len(text)


def test_truncation_cuts_trailing_evidence_words_and_records_it():
    task = load_task("fever")
    ex = Example("f", {"claim": ("Short", "claim."), "evidence": tuple(f"w{i}" for i in range(200))}, "supports")
    builder = PromptBuilder(task, CharBackend(), max_length=500)
    p = builder.classification(ex)
    assert p.truncated_words > 0
    assert len(p.text) + builder.reserve_tokens <= 500
    kept = [g for g, _, _ in p.word_spans]
    assert kept == list(range(2 + 200 - p.truncated_words))  # claim intact, evidence tail cut
    # one word fewer cut would not fit: the cut is minimal
    assert 'Short claim.' in p.text and p.text.endswith("Label:")


def test_prompt_that_cannot_fit_is_an_error():
    task = load_task("fever")
    ex = Example("f", {"claim": ("c",), "evidence": ("e",)}, "supports")
    with pytest.raises(ConfigError, match="does not fit"):
        PromptBuilder(task, CharBackend(), max_length=50).classification(ex)


def test_bad_task_file_is_a_clear_error(tmp_path, monkeypatch):
    (tmp_path / "broken.toml").write_text('name = "broken"\nfields = ["text"]\nlabels = ["a"]\n[verbalizers]\na = " a"\n[prompts]\nclassification = "{text}"\n')
    monkeypatch.setenv("FAITHSCOPE_TASKS", str(tmp_path))
    with pytest.raises(ConfigError, match="missing prompt 'attribution'"):
        load_task("broken")
