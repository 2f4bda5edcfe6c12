"""The whole study on the embedded model at the smallest sizes (demo task, one style, 6
training and 4 evaluation examples, 2 epochs), killed once mid-training and once
mid-evaluation: each rerun resumes, nothing stored is recomputed, and the tables equal a
recomputation from the store's rows."""

from __future__ import annotations

import csv
from collections import Counter

import pytest

from faithscope.selfexplain.config import StudyConfig
from faithscope.selfexplain.store import StudyStore
from faithscope.selfexplain.study import Stages, Study, _fresh_base, run_study


class Kill(BaseException):
    pass


@pytest.mark.slow  # ~11.5 min of CPU (~6 min on 2 free cores; 40+ min on the shared machine): three runs of pseudo, training and evaluation
def test_study_end_to_end_with_kills(tmp_path, loaded_model):
    from faithscope.selfexplain.training import train_selfexplain

    out = tmp_path / "study"

    def cfg() -> StudyConfig:
        return StudyConfig(tasks=("demo",), styles=("attribution",), train_n=6, eval_n=4, epochs=2, eval_chunk=2,
                           output_dir=str(out), experiments=("main",), progress=False)

    calls: Counter = Counter()
    evaluated: list[tuple[str, str, str]] = []

    def stages(kill_epoch: int | None = None) -> Stages:
        base = Stages()
        real_evaluate = base.evaluate_styles

        def load_model(spec):  # the session's model, copied (the study never changes its base)
            calls["load_model"] += 1
            return _fresh_base(loaded_model, spec)

        def train(loaded, items, settings, output_dir, *, progress=True):
            def hook(epoch):
                calls[f"epoch_{epoch}"] += 1
                if epoch == kill_epoch:
                    raise Kill()
            return train_selfexplain(loaded, items, settings, output_dir, progress=progress, hook=hook)

        def evaluate(backend, spec, examples, styles, mode, **kw):
            evaluated.extend((mode, style, e.id) for style in styles for e in examples)
            return real_evaluate(backend, spec, examples, styles, mode, **kw)

        base.load_model, base.train, base.evaluate_styles = load_model, train, evaluate
        return base

    # 1: killed after the first of two epochs
    with pytest.raises(Kill):
        Study(cfg(), stages(kill_epoch=1)).run()
    assert calls["epoch_1"] == 1 and calls["epoch_2"] == 0
    # 2: resumes training at epoch 2, then is killed after the first evaluation chunk of after:main
    seen = []

    def kill_in_after(name, info):
        if name == "chunk_stored" and info["condition"] == "after:main":
            seen.append(info)
            raise Kill()

    with pytest.raises(Kill):
        Study(cfg(), stages(), on_event=kill_in_after).run()
    assert calls["epoch_1"] == 1 and calls["epoch_2"] == 1
    with StudyStore(out, readonly=True) as store:
        stored = {(c, r.mode, r.style, r.example_id) for c, _, r in store.checks()}
    assert len([k for k in stored if k[0] == "after:main"]) == 2  # one chunk of 2 examples, mode one
    # 3: finishes; only the missing rows are computed, training is not touched again
    n_before = len(evaluated)
    run_study(cfg(), stages=stages())
    assert calls["epoch_1"] == 1 and calls["epoch_2"] == 1
    rerun = evaluated[n_before:]
    assert len(rerun) == len(set(rerun)) == 2 * 4 - 2  # after:main: 4 examples x 2 modes, minus the stored chunk
    with StudyStore(out, readonly=True) as store:
        rows = store.checks()
        assert len(rows) == 2 * 2 * 4  # before and after:main x 2 modes x 4 examples
        assert store.pseudo_done() == {"demo": 6}
        stages_seen = {t["stage"] for t in store.timings()}
    assert {"building explanations", "training", "evaluation", "second view"} <= stages_seen
    # the tables equal a recomputation from the store rows
    with open(out / "report" / "selfexplain_main.csv", newline="", encoding="utf-8") as f:
        main = list(csv.DictReader(f))
    assert len(main) == 2
    for rec in main:
        for condition, column in (("before", "sc_faithful_before"), ("after:main", "sc_faithful_after")):
            cell = [r for c, _, r in rows if c == condition and r.mode == rec["mode"]]
            assert float(rec[column]) == pytest.approx(sum(r.faithful is True for r in cell) / len(cell))
            correct = sum(r.correct for r in cell) / len(cell)
            assert float(rec[column.replace("faithful", "correct")]) == pytest.approx(correct)
    assert (out / "report" / "report.html").is_file()
