import json
from collections import Counter

from faithscope.data import demo
from faithscope.errors import DataError


def test_demo_set_shape():
    exs = demo.load()
    assert len(exs) == 48
    assert Counter(e.label for e in exs) == {"entailment": 16, "contradiction": 16, "neutral": 16}
    assert len({e.id for e in exs}) == 48
    assert all(e.rationale and e.explanations and e.rationale <= set(range(e.n_words)) for e in exs)
    # as in e-SNLI, neutral pairs highlight hypothesis words only
    for e in exs:
        if e.label == "neutral":
            assert min(e.rationale) >= len(e.fields["premise"])


def test_demo_first_pair_positions():
    e = demo.load()[0]
    assert e.id == "demo-01" and e.label == "entailment"
    assert e.text("premise") == "A woman in a yellow raincoat is walking her dog along the harbour."
    # premise: walking=7, dog=9, harbour.=12; hypothesis (offset 13): outdoors=3, animal.=6
    assert e.rationale == frozenset({7, 9, 12, 16, 19})
    assert e.source == "demo/demo.jsonl:1"


def test_demo_format_errors(tmp_path):
    good = {"id": "x1", "label": "neutral", "premise": "A cat sits.", "hypothesis": "A cat *waits.*", "explanation": "e"}
    lines = [json.dumps(good), json.dumps(good | {"id": "x2", "label": "maybe"}),
             json.dumps(good | {"id": "x3", "premise": " ** "}), json.dumps({k: v for k, v in good.items() if k != "hypothesis"}),
             json.dumps(good)]
    path = tmp_path / "d.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    errors: list[DataError] = []
    exs = demo.load(path=path, on_error=errors.append)
    assert [e.id for e in exs] == ["x1"]
    assert [(e.line, e.field) for e in errors] == [(2, "label"), (3, "premise"), (4, "hypothesis"), (5, "id")]
    assert errors[3].problem == "duplicate id 'x1' (first on line 1)"
    assert exs[0].rationale == frozenset({5})
