"""Any ERASER-format directory (issue 16): several documents per annotation, docs/ or
docs.jsonl, the query field, evidence groups -> human rationale (their union), labels."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from faithscope.data import eraser, fever, load_dataset
from faithscope.errors import ConfigError, DataError
from faithscope.tasks import parse_task_file, resolve_task

REPO = Path(__file__).resolve().parents[2]
NLI_TASK = REPO / "tests" / "fixtures" / "tasks" / "nli_eraser.toml"
EXAMPLES = REPO / "examples" / "own-data"

ONE_FIELD = '''name = "joined"
fields = ["text"]
labels = ["entailment", "contradiction"]
[verbalizers]
entailment = " entailment"
contradiction = " contradiction"
[prompts]
classification = "{text} Label:"
attribution = "{text} Label: {label}"
unbound = "{text} {label} words?"
topk = "{text} {label} top {k} words?"
'''


def test_several_documents_per_annotation_fill_the_fields_in_docid_order(fixtures):
    exs = eraser.load(fixtures / "eraser_nli", task=parse_task_file(NLI_TASK))
    a, b = exs
    assert (a.id, a.label, b.id, b.label) == ("nli-1", "entailment", "nli-2", "contradiction")
    assert a.fields == {"premise": ("A", "man", "plays", "a", "guitar", "on", "stage", "."),
                        "hypothesis": ("A", "man", "performs", "music", ".")}
    # one evidence group spanning both documents: premise tokens 2-4, hypothesis tokens 2-3 (+8 premise words)
    assert a.rationale == frozenset({2, 3, 4, 10, 11})
    # two alternative groups, one per document: the union (ERASER's scorer takes the union too)
    assert b.rationale == frozenset({2, 7 + 3})
    assert [b.words[i] for i in sorted(b.rationale)] == ["sleep", "running"]
    assert b.fields["premise"] == ("Two", "dogs", "sleep", "on", "a", "sofa", ".")  # the document's lines joined
    assert a.source == "eraser_nli/test.jsonl:1"


def test_documents_beyond_the_last_field_join_it(fixtures, tmp_path):
    (tmp_path / "joined.toml").write_text(ONE_FIELD, encoding="utf-8")
    a, b = eraser.load(fixtures / "eraser_nli", task=parse_task_file(tmp_path / "joined.toml"))
    assert a.fields["text"] == ("A", "man", "plays", "a", "guitar", "on", "stage", ".", "A", "man", "performs", "music", ".")
    assert a.rationale == frozenset({2, 3, 4, 10, 11}) and b.rationale == frozenset({2, 10})


def test_query_field_and_labels_case_insensitive_match_the_fever_loader(fixtures):
    """FEVER is ERASER with one document: both loaders give the same examples."""
    via_eraser = eraser.load(fixtures / "fever", task=resolve_task("fever"))
    assert via_eraser == fever.load(fixtures)
    assert via_eraser[0].label == "supports"  # "SUPPORTS" in the file


def test_real_fever_through_the_eraser_loader(real_data):
    assert eraser.load(real_data / "fever", task=resolve_task("fever")) == fever.load(real_data)


def test_docs_jsonl_and_null_docids(tmp_path):
    """The example set: docs.jsonl instead of docs/, 'Positive'/'Negative' labels, one record with docids null."""
    exs = eraser.load(EXAMPLES / "eraser-reviews", task=resolve_task(str(EXAMPLES / "sentiment.toml")))
    assert [(e.id, e.label) for e in exs] == [("rev-1", "positive"), ("rev-2", "negative"), ("rev-3", "positive"), ("rev-4", "negative")]
    assert [[e.words[i] for i in sorted(e.rationale)] for e in exs] == [
        ["superb", "highly", "recommended"], ["stopped", "working"], ["delicious", "friendly"], ["disappointing", "very", "rude"]]
    assert exs[0].fields["review"][:5] == ("The", "sound", "is", "superb", ".")


def _dir(tmp_path: Path, fixtures: Path) -> Path:
    folder = tmp_path / "nli"
    shutil.copytree(fixtures / "eraser_nli", folder)
    return folder


def _write(folder: Path, records: list[dict]) -> None:
    (folder / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")


GOOD = {"annotation_id": "x", "classification": "entailment", "query": "q", "docids": ["p1", "h1"],
        "evidences": [[{"docid": "p1", "start_token": 2, "end_token": 5, "text": "plays a guitar"}]]}


@pytest.mark.parametrize("change, field, problem", [
    ({"docids": ["p1"]}, "docids", "task 'nli_eraser' has 2 document field(s) (premise, hypothesis) but this annotation has 1 document(s)"),
    ({"evidences": [[{"docid": "p2", "start_token": 0, "end_token": 1, "text": "Two"}]]}, "evidences",
     "span refers to document 'p2', which is not among the annotation's documents ['p1', 'h1']"),
    ({"evidences": [[{"docid": "p1", "start_token": 2, "end_token": 5, "text": "plays the guitar"}]]}, "evidences",
     "tokens [2, 5) of document 'p1' do not reproduce the span text"),
    ({"evidences": [[{"docid": "p1", "start_token": 6, "end_token": 9, "text": "stage ."}]]}, "evidences",
     "token span [6, 9) is not inside document 'p1' (8 words)"),
    ({"classification": "maybe"}, "classification", "unknown label 'maybe'; expected one of entailment, contradiction, neutral"),
    ({"docids": ["p1", "../h1"]}, "docids", "invalid document id '../h1'"),
    ({"docids": ["p1", "p1"]}, "docids", "document 'p1' is listed twice"),
])
def test_malformed_annotations_name_file_line_and_field(tmp_path, fixtures, change, field, problem):
    folder = _dir(tmp_path, fixtures)
    _write(folder, [GOOD, {**GOOD, "annotation_id": "y", **change}])
    task = parse_task_file(NLI_TASK)
    with pytest.raises(DataError) as info:
        eraser.load(folder, task=task)
    assert (info.value.path, info.value.line, info.value.field, info.value.problem) == (str(folder / "test.jsonl"), 2, field, problem)
    loaded = load_dataset("eraser", folder, task=task, skip_invalid=True)
    assert [e.id for e in loaded.examples] == ["x"] and loaded.skipped == 1


def test_query_needed_by_a_query_field(tmp_path, fixtures):
    folder = tmp_path / "fever"
    shutil.copytree(fixtures / "fever", folder)
    recs = [json.loads(l) for l in (folder / "test.jsonl").read_text(encoding="utf-8").splitlines()]
    recs[1]["query"] = None
    _write(folder, recs)
    with pytest.raises(DataError, match=r"line 2, field 'query': must be a string \(task field 'claim' shows it\)"):
        eraser.load(folder, task=resolve_task("fever"))


def test_docs_dir_and_docs_jsonl_together_and_bad_docs_jsonl(tmp_path, fixtures):
    folder = _dir(tmp_path, fixtures)
    (folder / "docs.jsonl").write_text('{"docid": "p1", "document": "x"}\n', encoding="utf-8")
    with pytest.raises(DataError, match="holds both docs/ and docs.jsonl"):
        eraser.load(folder, task=parse_task_file(NLI_TASK))
    shutil.rmtree(folder / "docs")
    (folder / "docs.jsonl").write_text('{"docid": "p1", "document": "A b"}\n{"docid": "p1", "document": "c"}\n', encoding="utf-8")
    with pytest.raises(DataError) as info:
        eraser.load(folder, task=parse_task_file(NLI_TASK))
    assert str(info.value) == f"{folder / 'docs.jsonl'}, line 2, field 'docid': duplicate docid 'p1' (first on line 1)"


def test_eraser_needs_a_task_and_a_directory(tmp_path):
    with pytest.raises(ConfigError, match="needs a task"):
        load_dataset("eraser", tmp_path)
    with pytest.raises(ConfigError, match="reads the directory given by --data-dir"):
        load_dataset("eraser", None, task=parse_task_file(NLI_TASK))
    with pytest.raises(DataError, match="file not found; an ERASER directory holds"):
        load_dataset("eraser", tmp_path, task=parse_task_file(NLI_TASK))
    with pytest.raises(ConfigError, match="unknown ERASER split 'dev'"):
        load_dataset("eraser", tmp_path, task=parse_task_file(NLI_TASK), split="dev")
