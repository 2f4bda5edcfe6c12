"""A masked input identical to one already scored is scored once, with the same results.

Two methods that select the same words (``human`` and a test twin of it) give identical masked
prompts. The runner must send each distinct masked prompt -- rationale removed, rationale kept
alone (sufficiency) -- to the backend once, within a chunk and across chunks (the store's scored
prompts), never the original prompt again (ALL kept = the original), and the masked rows must
equal those obtained by scoring every rationale's masked prompt on its own.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from faithscope.methods import REGISTRY
from faithscope.methods.human import Human
from faithscope.runs.config import RunConfig
from faithscope.runs import perturb
from faithscope.runs.runner import Runner


class HumanTwin(Human):
    name = "human_twin"
    description = "test only: the human rationale under another name"

    def explain(self, requests, ctx):
        return [replace(r, method=self.name) for r in super().explain(requests, ctx)]


@pytest.fixture
def twin_registered(monkeypatch):
    monkeypatch.setitem(REGISTRY, HumanTwin.name, HumanTwin)


def test_identical_masked_prompts_scored_once_with_same_flip_rows(tmp_path, backend, twin_registered, counting_backend):
    counting = counting_backend(backend)
    # batch_size=1: masking takes 4 rationales per chunk (human, twin, all of example 1 and
    # human of example 2, ...), so twins meet both within a chunk and across chunks (the
    # second one then comes from the store's scored prompts)
    cfg = RunConfig(dataset="demo", n=3, first=True, methods=("human", "human_twin", "all-words"), output_dir=str(tmp_path / "run"),
                    batch_size=1, progress=False)
    runner = Runner(cfg, backend=counting)
    runner.classify()
    runner.extract_rationales()
    counting.calls.clear()
    runner.mask_and_rescore()

    store = runner.store
    examples = {e.id: e for e in runner.examples}
    preds = store.predictions()
    rationales = {(eid, rat.method): rat for eid, _, rat in store.rationales(purpose="faithfulness")}
    assert {m for _, m in rationales} == {"human", "human_twin", "all-words"}
    texts = {key: runner.prompts.classification(examples[key[0]], frozenset(rat.positions)).text for key, rat in rationales.items()}
    plans = {key: perturb.plan(rat.positions, rat.scores, runner.prompts.visible(examples[key[0]]), examples[key[0]].n_words)
             for key, rat in rationales.items()}
    assert all(len(p.others) == 1 and p.others[0].kind == "kept" for p in plans.values())  # unscored methods: sufficiency only
    kept = {key: runner.prompts.classification(examples[key[0]], p.others[0].drop).text for key, p in plans.items()}
    originals = {runner.prompts.classification(e).text for e in examples.values()}
    assert {kept[(eid, "all-words")] for eid in examples} == originals
    for eid in examples:
        assert rationales[(eid, "human")].positions == rationales[(eid, "human_twin")].positions
        assert texts[(eid, "human")] == texts[(eid, "human_twin")] != texts[(eid, "all-words")]

    sent = [p for call in counting.calls for p in call]
    assert len(sent) == len(set(sent)), "a masked prompt was scored twice"
    assert set(sent) == (set(texts.values()) | set(kept.values())) - originals
    assert not set(sent) & originals, "an original prompt was scored again"
    # human = twin per example; masking ALL words leaves the same instruction-only prompt for
    # every example, so it is scored once for all of them; keeping ALL is the original prompt
    assert len(sent) == 2 * len(examples) + 1 < 2 * len(rationales)

    rows = {(r["example_id"], r["method"]): r for r in store.masked("delete")}
    assert set(rows) == set(rationales)
    verbal = runner.prompts.verbalizers()
    for (eid, method), row in rows.items():
        alone = backend.score_labels([texts[(eid, method)]], verbal)[0]  # scored on its own
        orig = preds[eid]
        j = orig.labels.index(orig.predicted)
        assert row["orig_predicted"] == orig.predicted
        assert row["predicted"] == alone.predicted
        assert row["flipped"] == int(alone.predicted != orig.predicted)
        assert row["masked_logprob"] == pytest.approx(alone.logprobs[j], abs=1e-4)
        assert row["masked_prob"] == pytest.approx(alone.probs[j], abs=1e-4)
        twin = rows[(eid, "human_twin" if method == "human" else "human")] if method != "all-words" else None
        if twin is not None:
            assert {k: v for k, v in twin.items() if k != "method"} == {k: v for k, v in row.items() if k != "method"}

    # sufficiency rows: one per rationale, equal to scoring its kept-only prompt alone
    kept_rows = {(r["example_id"], r["method"]): r for r in store.perturbed("delete") if r["kind"] == "kept"}
    assert set(kept_rows) == set(rationales) and len(store.perturbed("delete")) == len(rationales)
    for (eid, method), row in kept_rows.items():
        if method == "all-words":
            alone = preds[eid]
        else:
            alone = backend.score_labels([kept[(eid, method)]], verbal)[0]
        j = preds[eid].labels.index(preds[eid].predicted)
        assert row["predicted"] == alone.predicted
        assert row["masked_prob"] == pytest.approx(alone.probs[j], abs=1e-4)
        assert row["n_words"] == len(rationales[(eid, method)].positions)

    # flip rates per method: the twin's equal the human's, and equal those of separate scoring
    def rate(method):
        return sum(rows[(eid, method)]["flipped"] for eid in examples) / len(examples)

    assert rate("human") == rate("human_twin")
