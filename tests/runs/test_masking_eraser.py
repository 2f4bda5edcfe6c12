"""The masking stage on a real model: a truncated example (issue 12 item 4) and ERASER's
sufficiency and AOPC inputs (issue 11 item 12).

One demo example is cut so that two of its human-rationale words fall outside the window.
The run must warn, record the cut positions, exclude the hidden rationale words from masking
(and count them), score the removed, kept-only and AOPC-bin inputs of every rationale with no
prompt sent twice (nor the original prompt again), store rows equal to scoring each input
alone, report the counts (summary.json, Tables 2 and 4) and, rerun, score nothing.
"""

from __future__ import annotations

from faithscope.metrics import get_metric

import logging

import pytest

from faithscope.reports.compose import compute, records_table2, records_table4, table2, table4
from faithscope.reports.rundata import load_run
from faithscope.runs import perturb
from faithscope.runs.config import RunConfig
from faithscope.runs.runner import Runner, load_examples
from faithscope.tasks import load_task
from faithscope.tasks.render import classification_prompt

METHODS = ("human", "saliency", "all-words")


@pytest.fixture(scope="module")
def truncated_run(tmp_path_factory, backend, counting_backend):
    base = RunConfig(dataset="demo", n=1, first=True, methods=METHODS, output_dir=str(tmp_path_factory.mktemp("trunc") / "run"), batch_size=1, progress=False)
    (ex,), _, _ = load_examples(base)
    assert ex.id == "demo-01" and {7, 9, 12} <= ex.rationale  # walking, dog, harbour.
    # a window that shows the premise only up to "her" (positions 0-8): dog (9) and harbour. (12) are cut
    cut = frozenset(range(9, len(ex.fields["premise"])))
    max_length = backend.count_tokens(classification_prompt(load_task("demo"), ex, delete=cut).text) + 8
    cfg = RunConfig(**{**base.__dict__, "max_length": max_length})
    counting = counting_backend(backend)
    runner = Runner(cfg, backend=counting)
    return runner, counting, ex, cut, cfg


def test_truncated_run_warns_excludes_counts_and_dedupes(truncated_run, backend, caplog):
    runner, counting, ex, cut, cfg = truncated_run
    with caplog.at_level(logging.WARNING, logger="faithscope.runs.runner"):
        runner.classify()
    assert any("truncation: 1 of 1 examples" in r.getMessage() and "2 human-rationale words outside the window" in r.getMessage()
               for r in caplog.records), [r.getMessage() for r in caplog.records]
    store = runner.store
    assert store.hidden() == {ex.id: sorted(cut)}
    assert store.predictions()[ex.id].truncated_words == len(cut)

    runner.extract_rationales()
    counting.calls.clear()
    runner.mask_and_rescore()
    sent = [p for call in counting.calls for p in call]
    assert len(sent) == len(set(sent)), "a prompt was scored twice"
    original = runner.prompts.classification(ex).text
    assert original not in sent

    preds = store.predictions()
    rats = {rat.method: rat for _, _, rat in store.rationales(purpose="faithfulness")}
    visible = runner.prompts.visible(ex)
    assert visible == frozenset(range(ex.n_words)) - cut
    expected_texts = set()
    for method, rat in rats.items():
        p = perturb.plan(rat.positions, rat.scores, visible, ex.n_words)
        for q in (p.removed, *p.others):
            fitted = runner.prompts.classification(ex, q.drop)
            assert {g for g, _, _ in fitted.word_spans} <= visible  # no hidden word ever comes into view
            expected_texts.add(fitted.text)
    assert set(sent) == expected_texts - {original}

    masked = {r["method"]: r for r in store.masked("delete")}
    assert (masked["human"]["n_masked"], masked["human"]["n_outside"]) == (len(ex.rationale - cut), 2)
    assert (masked["all-words"]["n_masked"], masked["all-words"]["n_outside"]) == (len(visible), len(cut))
    assert masked["saliency"]["n_outside"] == 0  # attribution never selects an unseen word

    rows = store.perturbed("delete")
    kinds = {}
    for r in rows:
        kinds.setdefault(r["method"], []).append((r["kind"], r["fraction"]))
    assert sorted(kinds["human"]) == sorted(kinds["all-words"]) == [("kept", 1.0)]  # unscored: sufficiency only
    assert sorted(kinds["saliency"]) == sorted([("kept", 1.0)] + [(k, b) for b in (0.01, 0.05, 0.1, 0.2, 0.5) for k in ("aopc_kept", "aopc_removed")])
    verbal = runner.prompts.verbalizers()
    j = preds[ex.id].labels.index(preds[ex.id].predicted)
    sal = rats["saliency"]
    plan = perturb.plan(sal.positions, sal.scores, visible, ex.n_words)
    for q in plan.others:
        row = next(r for r in rows if r["method"] == "saliency" and r["kind"] == q.kind and r["fraction"] == q.fraction)
        text = runner.prompts.classification(ex, q.drop).text
        alone = preds[ex.id] if text == original else backend.score_labels([text], verbal)[0]
        assert row["predicted"] == alone.predicted and row["n_words"] == q.n_words
        assert row["masked_prob"] == pytest.approx(alone.probs[j], abs=1e-4)

    # rerun: nothing is scored again
    before = store.timings()["masking"][1]
    counting.calls.clear()
    runner.release()  # the stages ran one by one: hand the directory's lock to the rerun
    again = Runner(cfg, backend=counting)
    again.mask_and_rescore()
    again.release()
    assert counting.calls == [] and store.timings()["masking"][1] == before


def test_truncation_counts_reach_summary_and_tables(truncated_run):
    runner, _, ex, cut, _ = truncated_run
    runner.run()  # a no-op after the test above; alone, it makes the run
    data = load_run(runner.run_dir)
    rt = compute(data, n_resamples=50)
    s = rt.summary.as_dict()
    assert s["truncated_example_ids"] == [ex.id] and s["truncated_words"] == len(cut)
    assert s["human_rationale_words_outside_window"] == 2
    assert any(w.startswith("truncation: 1 examples") for w in s["warnings"])
    human_t2 = next(r for r in rt.alignment if r.method == "human")
    assert human_t2.micro_f1 == pytest.approx(1.0)  # the visible human rationale against itself
    assert any("2 human-rationale words" in n for n in table2([rt]).notes)
    assert {r["human_words_outside_window"] for r in records_table2([rt])} == {2}
    t4 = {r.method: r for r in rt.faithfulness}
    assert (t4["human"].outside_window, t4["all-words"].outside_window, t4["saliency"].outside_window) == (2, len(cut), 0)
    assert t4["saliency"].n_aopc == 1 and t4["human"].n_aopc == 0
    rec = {r["method"]: r for r in records_table4([rt])}
    assert rec["human"]["rationale_words_outside_window"] == 2
    assert "outside window" in table4([rt]).columns and get_metric("aopc_sufficiency").header in table4([rt]).columns
