"""``--no-aopc`` (issue 11 leftovers, item 2): the masking stage without ERASER's AOPC bins.

The same demo run is made twice, with and without AOPC, through a backend that records every
prompt it scores. Without AOPC the masking stage must score fewer prompts (exactly the removed
and kept-only inputs), store the same flip, comprehensiveness and sufficiency rows, store no
AOPC rows, and Table 4 must show no AOPC column or number (absent, not 0). The option is a
result key: a run directory made without AOPC refuses to be resumed with it.
"""

from __future__ import annotations

import csv

import pytest

from faithscope.cli import main
from faithscope.errors import ConfigError
from faithscope.metrics import get_metric
from faithscope.reports.compose import compute, records_table4, table4
from faithscope.reports.rundata import load_run
from faithscope.runs import perturb
from faithscope.runs.config import RunConfig
from faithscope.runs.runner import Runner

METHODS = ("human", "saliency", "all-words")


def _masking_run(tmp_path, name, backend, counting_backend, aopc):
    counting = counting_backend(backend)
    cfg = RunConfig(dataset="demo", n=3, first=True, methods=METHODS, output_dir=str(tmp_path / name), batch_size=4, progress=False, aopc=aopc)
    runner = Runner(cfg, backend=counting)
    runner.classify()
    runner.extract_rationales()
    counting.calls.clear()
    runner.mask_and_rescore()
    sent = [p for call in counting.calls for p in call]
    runner.release()
    return runner, cfg, sent


@pytest.fixture(scope="module")
def both_runs(tmp_path_factory, loaded_model, counting_backend):
    from faithscope.models.hf import HFBackend

    # one prompt per forward: a prompt's scores then do not depend on which other prompts share
    # its (padded) batch, so the two runs' common rows can be compared exactly
    alone = HFBackend(loaded_model, max_batch_size=1)
    tmp = tmp_path_factory.mktemp("aopc")
    return (_masking_run(tmp, "with", alone, counting_backend, True),
            _masking_run(tmp, "without", alone, counting_backend, False))


def test_no_aopc_scores_fewer_prompts_and_same_flip_rows(both_runs):
    (with_runner, _, with_sent), (without_runner, _, without_sent) = both_runs
    assert len(without_sent) < len(with_sent)
    # without AOPC exactly the removed and kept-only inputs are scored (minus the originals)
    runner = without_runner
    examples = {e.id: e for e in runner.examples}
    expected = set()
    for eid, _, rat in runner.store.rationales(purpose="faithfulness"):
        ex = examples[eid]
        p = perturb.plan(rat.positions, rat.scores, runner.prompts.visible(ex), ex.n_words)
        expected |= {runner.prompts.classification(ex, q.drop).text for q in (p.removed, p.others[0]) if q.drop}
        assert p.others[0].kind == perturb.KEPT
    assert set(without_sent) == expected - {runner.prompts.classification(e).text for e in examples.values()}

    def rows(store, table):
        key = ("example_id", "method", "kind", "fraction") if table == "perturbed" else ("example_id", "method")
        return {tuple(r[k] for k in key): {k: v for k, v in r.items()} for r in getattr(store, table)("delete")}

    assert rows(with_runner.store, "masked") == rows(without_runner.store, "masked")
    with_kept = {k: v for k, v in rows(with_runner.store, "perturbed").items() if k[2] == perturb.KEPT}
    assert with_kept == rows(without_runner.store, "perturbed")  # sufficiency rows only, identical
    assert any(k[2] == perturb.AOPC_REMOVED for k in rows(with_runner.store, "perturbed"))


def test_no_aopc_table_has_no_aopc_numbers(both_runs, capsys):
    (with_runner, _, _), (without_runner, _, _) = both_runs
    with_t = compute(load_run(with_runner.run_dir), n_resamples=50)
    without_t = compute(load_run(without_runner.run_dir), n_resamples=50)
    a = {r.method: r for r in with_t.faithfulness}
    b = {r.method: r for r in without_t.faithfulness}
    for m in METHODS:
        assert (b[m].flip_rate, b[m].comprehensiveness, b[m].sufficiency, b[m].n) == (a[m].flip_rate, a[m].comprehensiveness, a[m].sufficiency, a[m].n)
        assert b[m].aopc_comprehensiveness is None and b[m].aopc_sufficiency is None and b[m].n_aopc == 0
    assert a["saliency"].aopc_comprehensiveness is not None and a["saliency"].n_aopc == 3

    headers = [get_metric(m).header for m in ("aopc_comprehensiveness", "aopc_sufficiency")]
    t_with, t_without = table4([with_t]), table4([without_t])
    assert all(h in t_with.columns for h in headers)
    assert not any(h in t_without.columns for h in headers)
    assert any("--no-aopc" in n for n in t_without.notes)
    for rec in records_table4([without_t]):
        assert rec["aopc_computed"] is False
        assert all(rec[k] is None for k in rec if k.startswith("aopc_") and k != "aopc_computed")
    # mixed: the run without AOPC shows blank AOPC cells beside the run with it
    mixed = table4([with_t, without_t])
    assert sum(h == headers[0] for h in mixed.columns) == 2
    assert any("[2]" in n and "--no-aopc" in n for n in mixed.notes)

    main(["report", str(without_runner.run_dir)])
    capsys.readouterr()
    with open(without_runner.run_dir / "report" / "table4_faithfulness.csv", newline="") as f:
        recs = list(csv.DictReader(f))
    assert recs and all(r["aopc_comprehensiveness"] == "" and r["aopc_sufficiency"] == "" for r in recs)
    assert all(r["flip_rate"] != "" for r in recs)
    md = (without_runner.run_dir / "report" / "table4_faithfulness.md").read_text()
    assert "AOPC" not in next(line for line in md.splitlines() if line.startswith("| Method"))


def test_no_aopc_run_is_not_resumed_with_aopc(both_runs, backend):
    _, (_, cfg, _) = both_runs
    with pytest.raises(ConfigError, match="aopc"):
        Runner(RunConfig(**{**cfg.__dict__, "aopc": True}), backend=backend)


def test_run_stored_before_the_option_resumes_as_aopc(tmp_path):
    """A run stored before ``aopc`` was a result key scored AOPC: it binds again with the
    default, and is refused with ``--no-aopc`` (its rows hold AOPC bins)."""
    from faithscope.runs.store import ResultStore

    cfg = RunConfig(dataset="demo", n=2, output_dir=str(tmp_path))
    store = ResultStore.in_dir(tmp_path)
    store.bind_config(cfg, {"model": "m"}, {})
    old = store.get_meta("config_result")
    del old["aopc"]  # as written before the option existed
    store.set_meta(config_result=old)
    store.bind_config(cfg, {"model": "m"}, {})  # same run: accepted
    with pytest.raises(ConfigError, match="aopc: stored true != requested false"):
        store.bind_config(RunConfig(dataset="demo", n=2, output_dir=str(tmp_path), aopc=False), {"model": "m"}, {})
    store.close()


def test_resumed_masking_bar_counts_rationales_already_done(both_runs, capfd):
    """The masking bar counts rationales (one per example and method, not examples) and a
    resumed run's bar starts at what the store holds (it showed 0 of 0 'ex' before)."""
    _, (runner, cfg, _) = both_runs
    again = Runner(RunConfig(**{**cfg.__dict__, "progress": True}), backend=runner.backend)
    capfd.readouterr()
    again.mask_and_rescore()
    again.release()
    err = capfd.readouterr().err
    n = 3 * len(METHODS)
    assert "masking: 100%" in err and f"{n}/{n}" in err and "rationale" in err, err
