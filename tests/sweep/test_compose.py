"""The composed sweep table on hand-made cell stores (no model)."""

from __future__ import annotations

import math

import pytest

from faithscope.reports.compose import compute
from faithscope.reports.rundata import load_run
from faithscope.runs.store import ResultStore
from faithscope.sweep.cells import build_cells
from faithscope.sweep.compose import evaluation_table
from faithscope.sweep.plan import parse_plan
from faithscope.types import Example, LabelScores

from .conftest import DEMO_PLAN


def _write_cell(run_dir, preds):
    """A cell store with gold 'yes' everywhere and ``preds`` (None: the reply named no label)."""
    labels = ("yes", "no")
    store = ResultStore.in_dir(run_dir)
    store.set_meta(config={"dataset": "demo"}, model_identity={"model": "m"}, labels=list(labels))
    store.bind_examples([Example(f"e{i}", {"text": ("w",)}, "yes", frozenset()) for i in range(len(preds))])
    store.put_predictions(
        (f"e{i}", LabelScores(labels, (-math.inf, -math.inf), source="unparseable") if p is None
         else LabelScores(labels, tuple(-0.1 if lab == p else -3.0 for lab in labels)), None)
        for i, p in enumerate(preds))
    store.close()
    return compute(load_run(run_dir), 10)


def test_unreadable_labels_get_their_own_column_so_accuracy_zero_is_not_read_as_wrong_answers(tmp_path):
    cells = [c for c in build_cells(parse_plan(DEMO_PLAN), tmp_path) if c.dataset.name == "demo2"]
    computed = {cells[0].name: _write_cell(cells[0].dir, [None, None]), cells[1].name: _write_cell(cells[1].dir, ["yes", "no"])}
    table, records = evaluation_table("rationales", "rationales", cells, computed)
    col = table.columns.index("label unreadable")
    assert [r[1][col] for r in table.rows] == ["100.00", "0.00"]
    assert [(r["accuracy"], r["label_unreadable"]) for r in records] == [(0.0, 1.0), (0.5, 0.0)]


def test_no_unreadable_column_when_every_label_was_read(tmp_path):
    cells = [c for c in build_cells(parse_plan(DEMO_PLAN), tmp_path) if c.dataset.name == "demo2"]
    computed = {c.name: _write_cell(c.dir, ["yes", "yes"]) for c in cells}
    table, records = evaluation_table("rationales", "rationales", cells, computed)
    assert "label unreadable" not in table.columns
    assert [r["label_unreadable"] for r in records] == [pytest.approx(0.0)] * 2
