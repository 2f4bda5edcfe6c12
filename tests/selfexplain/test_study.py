"""The study's plan, store, resume and tables, on fake stages that count every piece of work."""

from __future__ import annotations

import csv
import math
import sqlite3
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from faithscope.errors import ConfigError, StoreError
from faithscope.selfexplain.config import StudyConfig
from faithscope.selfexplain.report import load_study
from faithscope.selfexplain.store import StudyStore, is_study_dir
from faithscope.selfexplain.study import Study, plan, run_study

from .study_fakes import PRESETS, Work, make_stages


class Kill(BaseException):
    """Stands for a kill -9 / Ctrl-C in the middle of a stage (not an Exception: nothing swallows it)."""


def config(tmp_path: Path, **kw) -> StudyConfig:
    base = dict(tasks=("demo", "demo2"), train_n=6, eval_n=10, eval_chunk=4, output_dir=str(tmp_path / "study"),
                experiments=("main", "cross-style", "unseen-task"), progress=False)
    return StudyConfig(**(base | kw)).resolve(PRESETS)


def test_plan_names_every_condition(tmp_path):
    names = [c.name for c in plan(config(tmp_path))]
    assert names == ["before", "after:main", "after:style=attribution", "after:style=redaction", "after:style=counterfactual",
                     "after:unseen=demo", "after:unseen=demo2"]
    unseen = {c.name: c for c in plan(config(tmp_path))}["after:unseen=demo"]
    assert unseen.train_tasks == ("demo2",) and unseen.eval_tasks == ("demo",)
    cross = {c.name: c for c in plan(config(tmp_path))}["after:style=redaction"]
    assert cross.train_styles == ("redaction",) and cross.eval_styles == ("attribution", "redaction", "counterfactual")


def test_config_rejects_bad_names_and_sizes(tmp_path):
    with pytest.raises(ConfigError, match="unknown style"):
        config(tmp_path, styles=("attribution", "haiku"))
    with pytest.raises(ConfigError, match="unknown experiment"):
        config(tmp_path, experiments=("main", "everything"))
    with pytest.raises(ConfigError, match="at least two --tasks"):
        config(tmp_path, tasks=("demo",), experiments=("unseen-task",))
    with pytest.raises(ConfigError, match="--train-n"):
        config(tmp_path, train_n=0)
    with pytest.raises(ConfigError, match="unknown --preset"):
        StudyConfig(preset="gpu").resolve(PRESETS)
    with pytest.raises(ConfigError, match="unknown task"):
        Study(config(tmp_path, tasks=("demo", "imdb")), make_stages(Work())).run()


def expected_rows(cfg: StudyConfig) -> int:
    n = 0
    for c in plan(cfg):
        n += len(c.eval_tasks) * len(c.eval_styles) * len(cfg.modes) * cfg.eval_n
    return n


def test_study_stores_every_check_and_resumes_with_nothing_to_do(tmp_path):
    work = Work()
    cfg = config(tmp_path)
    run_study(cfg, stages=make_stages(work), write_report=False)
    with StudyStore(cfg.output_dir, readonly=True) as store:
        rows = store.checks()
        assert len(rows) == expected_rows(cfg)
        assert len({(c, t, r.style, r.mode, r.example_id) for c, t, r in rows}) == len(rows)
        assert set(store.trained()) == {c.name for c in plan(cfg) if c.trained}
        assert set(store.pseudo_done()) == {"demo", "demo2"}
        stages = {(t["condition"], t["stage"]) for t in store.timings()}
        assert {("before", "building explanations"), ("after:main", "training"), ("after:main", "evaluation")} <= stages
        assert all(t["peak_rss_mib"] > 0 for t in store.timings() if ":" not in t["stage"])  # sub-stages: time only
        assert ("before", "building explanations: attribution") in stages
        assert len(store.word_faith()) == len(rows)
    # every (backend, style, mode, example) computed exactly once
    assert len(work.evaluated) == len(set(work.evaluated)) == expected_rows(cfg)
    assert work.counts["load_model"] == 1
    # a rerun with everything stored loads no model and computes nothing
    before = Counter(work.counts)
    run_study(config(tmp_path), stages=make_stages(work), write_report=False)
    assert work.counts == before


def test_kill_mid_evaluation_then_rerun_computes_only_what_is_missing(tmp_path):
    straight = Work()
    run_study(config(tmp_path / "a"), stages=make_stages(straight), write_report=False)

    work, seen = Work(), []

    def kill_after_third_chunk(name, info):
        if name == "chunk_stored":
            seen.append(info)
            if len(seen) == 3:
                raise Kill()

    with pytest.raises(Kill):
        Study(config(tmp_path / "b"), make_stages(work), on_event=kill_after_third_chunk).run()
    partial = len(work.evaluated)
    assert 0 < partial < expected_rows(config(tmp_path / "b"))
    run_study(config(tmp_path / "b"), stages=make_stages(work), write_report=False)
    # nothing recomputed: each check once over both runs, and the same totals of backend work as one run
    assert len(work.evaluated) == len(set(work.evaluated)) == len(straight.evaluated)
    for key in ("predict", "word_faith", "pseudo"):
        assert work.counts[key] == straight.counts[key], key
    with StudyStore(tmp_path / "a" / "study", readonly=True) as a, StudyStore(tmp_path / "b" / "study", readonly=True) as b:
        assert a.checks() == b.checks()


def test_kill_mid_training_resumes_that_condition_and_skips_finished_ones(tmp_path):
    work = Work()
    cfg = config(tmp_path)

    def kill_in_cross_style(out_dir, epoch):
        if out_dir.name == "after-style-redaction" and epoch == 1:
            raise Kill()

    work.train_hook = kill_in_cross_style
    with pytest.raises(Kill):
        Study(cfg, make_stages(work)).run()
    calls_before = work.counts["train_calls"]
    work.train_hook = None
    run_study(config(tmp_path), stages=make_stages(work), write_report=False)
    # every epoch of every trained condition trained once; only the interrupted and later conditions called the trainer again
    trained = [c for c in plan(cfg) if c.trained]
    assert sorted(work.epochs) == sorted((c.slug, e) for c in trained for e in (1, 2))
    later = [c.name for c in trained][[c.name for c in trained].index("after:style=redaction"):]
    assert work.counts["train_calls"] - calls_before == len(later)


def test_no_experiment_checks_the_model_as_it_is_and_marks_the_study_finished(tmp_path):
    from faithscope.selfexplain.store import study_status

    work = Work()
    cfg = config(tmp_path, experiments=())
    assert [c.name for c in plan(cfg)] == ["before"] and config(tmp_path, experiments="none").experiments == ()

    def kill_after_first_chunk(name, info):
        if name == "chunk_stored":
            raise Kill()

    with pytest.raises(Kill):
        Study(cfg, make_stages(work), on_event=kill_after_first_chunk).run()
    assert study_status(cfg.output_dir) == "partial"  # cut short: not finished
    run_study(config(tmp_path, experiments=()), stages=make_stages(work), write_report=False)
    assert study_status(cfg.output_dir) == "done"
    assert work.counts["pseudo"] == 0 and work.counts["train_calls"] == 0  # nothing built, nothing trained
    with StudyStore(cfg.output_dir, readonly=True) as store:
        assert {c for c, _, _ in store.checks()} == {"before"} and len(store.checks()) == expected_rows(cfg)


def test_another_config_in_the_same_dir_is_refused(tmp_path):
    run_study(config(tmp_path, experiments=("main",)), stages=make_stages(Work()), write_report=False)
    with pytest.raises(ConfigError, match=r"another configuration \(differs in: eval_n\)"):
        Study(config(tmp_path, experiments=("main",), eval_n=7), make_stages(Work())).run()


def test_store_of_another_schema_version_is_refused(tmp_path):
    run_study(config(tmp_path, experiments=("main",)), stages=make_stages(Work()), write_report=False)
    db = sqlite3.connect(tmp_path / "study" / "results.sqlite")
    db.execute("UPDATE se_meta SET value='0' WHERE key='se_schema_version'")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="schema version 0"):
        StudyStore(tmp_path / "study")


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _faithful_rate(rows) -> float:
    """Hand rule: share of all rows whose check passed (an unusable reply is not faithful)."""
    return sum(1 for r in rows if r.faithful is True) / len(rows)


def test_tables_equal_a_recomputation_from_the_store_rows(tmp_path):
    cfg = config(tmp_path)
    out = run_study(cfg, stages=make_stages(Work()))
    report = out / "report"
    for stem in ("selfexplain_main", "selfexplain_cross_style", "selfexplain_unseen", "selfexplain_modes",
                 "selfexplain_second_view", "selfexplain_pseudo", "selfexplain_stages"):
        for ext in (".md", ".csv", ".tex"):
            assert (report / (stem + ext)).is_file(), stem + ext
    for fig in ("selfexplain_cross_style", "selfexplain_before_after"):
        assert (report / "plots" / f"{fig}.png").stat().st_size > 0 and (report / "plots" / f"{fig}.svg").is_file()
    with StudyStore(out, readonly=True) as store:
        rows = store.checks()
    cell = {}
    for c, t, r in rows:
        cell.setdefault((c, t, r.style, r.mode), []).append(r)
    main = _csv(report / "selfexplain_main.csv")
    assert len(main) == 2 * 3 * 2
    for rec in main:
        key = (rec["task"], rec["style"], rec["mode"])
        b, a = cell[("before",) + key], cell[("after:main",) + key]
        assert float(rec["sc_faithful_before"]) == pytest.approx(_faithful_rate(b))
        assert float(rec["sc_faithful_after"]) == pytest.approx(_faithful_rate(a))
        assert float(rec["sc_faithful_delta"]) == pytest.approx(_faithful_rate(a) - _faithful_rate(b))
        assert float(rec["sc_correct_before"]) == pytest.approx(sum(r.correct for r in b) / len(b))
        assert float(rec["sc_faithful_delta_ci_low"]) <= float(rec["sc_faithful_delta"]) <= float(rec["sc_faithful_delta_ci_high"])
    cross = {r["trained_on"]: r for r in _csv(report / "selfexplain_cross_style.csv")}
    assert list(cross) == ["before", "after:style=attribution", "after:style=redaction", "after:style=counterfactual", "after:main"]
    for style in cfg.styles:
        pooled = [r for t in cfg.tasks for r in cell[("after:style=redaction", t, style, "one")]]
        assert float(cross["after:style=redaction"][f"eval_{style}"]) == pytest.approx(_faithful_rate(pooled))
    unseen = _csv(report / "selfexplain_unseen.csv")
    assert {(r["held_out"], r["style"]) for r in unseen} == {(t, s) for t in cfg.tasks for s in cfg.styles}
    for rec in unseen:
        a = cell[(f"after:unseen={rec['held_out']}", rec["held_out"], rec["style"], "one")]
        assert float(rec["sc_faithful_unseen"]) == pytest.approx(_faithful_rate(a))
    md = (report / "selfexplain_main.md").read_text()
    assert "faithful ↑ before (%)" in md and "Δ faithful" in md
    # the second view: flip rate of the explained words over the rows that have them
    view = {(r["condition"], r["task"], r["style"], r["mode"]): r for r in _csv(report / "selfexplain_second_view.csv")}
    data = load_study(out)
    recs = [w for w in data.word_faith if (w["condition"], w["task"], w["style"], w["mode"]) == ("before", "demo", "attribution", "one")]
    flips = [w["flip"] for w in recs if w["flip"] is not None]
    assert float(view[("before", "demo", "attribution", "one")]["sc_word_flip"]) == pytest.approx(np.mean(flips))
    assert not math.isnan(float(view[("before", "demo", "attribution", "one")]["sc_word_flip_ci_low"]))


def test_report_command_and_html_escape_injected_text(tmp_path):
    from faithscope.reports import build_report

    work = Work(replies=lambda tag, style, mode, eid: f'<script>alert("{eid}")</script><img src=x onerror=1>')
    out = run_study(config(tmp_path, experiments=("main",)), stages=make_stages(work), write_report=False)
    assert is_study_dir(out)
    result = build_report([out])
    page = result.html.read_text(encoding="utf-8")
    assert "<script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&quot;" in page
    assert "Self-explanation study" in page and "Cross-style" not in page  # no cross-style experiment run
    assert 'Content-Security-Policy" content="default-src &#x27;none&#x27;' in page


def test_cli_one_line_errors(tmp_path, capsys):
    from faithscope.cli import main

    for argv, message in ((["--styles", "attribution,haiku"], "unknown style(s) 'haiku'"),
                          (["--experiments", "all"], "unknown experiment(s) 'all'"),
                          (["--data-dir", str(tmp_path / "nowhere"), "--tasks", "demo"], "no such directory"),
                          (["--tasks", "snli,imdb"], "unknown task(s) 'imdb'")):
        with pytest.raises(SystemExit) as e:
            main(["selfexplain", "--output-dir", str(tmp_path / "o"), "--no-progress", *argv])
        assert e.value.code == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert err[-1].startswith("error: ") and message in err[-1], err
