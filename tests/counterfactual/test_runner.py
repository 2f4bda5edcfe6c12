"""The counterfactual runner and store: end to end on the demo set, dedup, resume after a kill."""

import csv
import math

import pytest

from faithscope.counterfactual.api import run_counterfactual
from faithscope.counterfactual.store import CounterfactualStore, counterfactual_status
from faithscope.errors import ConfigError
from faithscope.metrics.counterfactual import COUNTERFACTUAL_METRICS

from .fakes import FakeBackend

SMALL = dict(dataset="demo", n=6, positions=2, words=2, batch_size=2, seed=1)


def _rows(d):
    s = CounterfactualStore(d)
    try:
        return [{k: v for k, v in r.items()} for r in s.interventions()], s.n_examples()
    finally:
        s.close()


def test_end_to_end_demo(tmp_path, lexicon):
    be = FakeBackend()
    out = run_counterfactual(output_dir=tmp_path / "run", backend=be, **SMALL)
    rows, n_ex = _rows(out)
    assert n_ex == 6 and 6 < len(rows) <= 6 * 4
    assert len(be.scored) == len(set(be.scored))  # every distinct prompt scored once
    assert len(be.generated) == len(set(be.generated))
    for r in rows:
        assert r["failure"] in (None, "empty explanation")
        assert (r["explanation"] == "") == (r["failure"] == "empty explanation")
        assert r["mention"] == int(r["word"] in r["explanation"].lower().split())
    with open(out / "counterfactual.csv", newline="") as f:
        rec = next(csv.DictReader(f))
    for m in COUNTERFACTUAL_METRICS:
        assert m in rec and f"{m}_ci_low" in rec and f"{m}_ci_high" in rec
    # the table's numbers are those of the stored rows (independent recomputation)
    changed = [bool(r["changed"]) for r in rows]
    assert float(rec["ct_flip_rate"]) == pytest.approx(sum(changed) / len(rows))
    m = [bool(r["mention"]) for r in rows]
    tp = [mm for mm, c in zip(m, changed) if c]
    if tp:
        assert float(rec["tpr"]) == pytest.approx(sum(tp) / len(tp))
    assert float(rec["empty_explanation_rate"]) == pytest.approx(sum(r["explanation"] == "" for r in rows) / len(rows))
    assert (out / "counterfactual.md").is_file() and (out / "counterfactual.tex").is_file()
    assert (out / "cf_tpr_fpr.png").is_file() and (out / "cf_tpr_fpr.svg").is_file()


def test_resume_after_kill_recomputes_nothing(tmp_path, lexicon):
    full = FakeBackend()
    ref = run_counterfactual(output_dir=tmp_path / "ref", backend=full, **SMALL)
    d = tmp_path / "killed"
    killed = FakeBackend(fail_on_score_call=2)  # dies in the second batch's label scoring
    assert counterfactual_status(d) == "new"
    with pytest.raises(KeyboardInterrupt):
        run_counterfactual(output_dir=d, backend=killed, **SMALL)
    _, n_done = _rows(d)
    assert n_done == 2  # the first batch (2 examples) was committed
    assert counterfactual_status(d) == "partial"  # a sweep resumes this cell instead of skipping it
    resumed = FakeBackend()
    run_counterfactual(output_dir=d, backend=resumed, **SMALL)
    assert counterfactual_status(d) == "done"
    assert not set(resumed.scored) & set(killed.scored)  # nothing of the stored batch is scored again
    assert len(resumed.scored) + len(killed.scored) == len(full.scored)
    assert _rows(d) == _rows(ref)  # same results as an uninterrupted run
    again = FakeBackend()
    run_counterfactual(output_dir=d, backend=again, **SMALL)
    assert again.scored == [] and again.generated == []  # a finished run computes nothing


def test_other_config_refused(tmp_path, lexicon):
    d = tmp_path / "run"
    run_counterfactual(output_dir=d, backend=FakeBackend(), **SMALL)
    with pytest.raises(ConfigError, match="positions"):
        run_counterfactual(output_dir=d, backend=FakeBackend(), **{**SMALL, "positions": 3})


def test_ep_order_and_human_style(tmp_path, lexicon):
    be = FakeBackend()
    out = run_counterfactual(output_dir=tmp_path / "ep", backend=be, order="ep", style="human", **{**SMALL, "n": 3})
    rows, n = _rows(out)
    assert n == 3 and rows
    assert all(p.rstrip().endswith("Explanation:") for p in be.generated)
    assert all(p.rstrip().endswith("Label:") for p in be.scored)
    assert all(p.count("Label:") == 4 for p in be.generated)  # 3 demonstrations + none for the example
    with pytest.raises(ConfigError, match="--order"):
        run_counterfactual(output_dir=tmp_path / "x", backend=be, order="xy", **SMALL)
    with pytest.raises(ConfigError, match="--dataset"):
        run_counterfactual(output_dir=tmp_path / "x", backend=be, dataset="nope")


def test_label_only_server_gives_phi_cct(tmp_path, lexicon):
    """A server without log-probabilities: labels parsed from replies, one-hot distributions."""
    from faithscope.models.server_labels import ServerLabelResult

    class LabelOnly(FakeBackend):
        def score_labels(self, prompts, verbalizers):  # must not be used
            raise AssertionError("score_labels called")

        def score_labels_detailed(self, prompts, verbalizers):
            out = []
            for s in FakeBackend.score_labels(self, prompts, verbalizers):
                lab = s.predicted if hash(s.logprobs) % 7 else None
                out.append(ServerLabelResult(label=lab, method="generation", parsed=lab is not None, scores=None, top_logprobs={}))
            return out

    out = run_counterfactual(output_dir=tmp_path / "srv", backend=LabelOnly(), **SMALL)
    rows, _ = _rows(out)
    tvds = [r["tvd"] for r in rows]
    assert set(tvds) <= {0.0, 1.0, None} and None in tvds
    assert all(not r["changed"] for r in rows if r["predicted"] == "")  # no label: never counted as a flip
    with open(out / "counterfactual.csv", newline="") as f:
        rec = next(csv.DictReader(f))
    assert "phi_cct" in rec
