"""The composed sweep table on hand-made cell stores (no model)."""

from __future__ import annotations

import pytest

from faithscope.sweep.cells import build_cells
from faithscope.sweep.compose import evaluation_table
from faithscope.sweep.plan import parse_plan

from .conftest import DEMO_PLAN


def test_unreadable_labels_get_their_own_column_so_accuracy_zero_is_not_read_as_wrong_answers(tmp_path, prediction_store):
    cells = [c for c in build_cells(parse_plan(DEMO_PLAN), tmp_path) if c.dataset.name == "demo2"]
    computed = {cells[0].name: prediction_store(cells[0].dir, [None, None]), cells[1].name: prediction_store(cells[1].dir, ["yes", "no"])}
    table, records = evaluation_table("rationales", "rationales", cells, computed)
    col = table.columns.index("label unreadable")
    assert [r[1][col] for r in table.rows] == ["100.00", "0.00"]
    assert [(r["accuracy"], r["label_unreadable"]) for r in records] == [(0.0, 1.0), (0.5, 0.0)]


def test_no_unreadable_column_when_every_label_was_read(tmp_path, prediction_store):
    cells = [c for c in build_cells(parse_plan(DEMO_PLAN), tmp_path) if c.dataset.name == "demo2"]
    computed = {c.name: prediction_store(c.dir, ["yes", "yes"]) for c in cells}
    table, records = evaluation_table("rationales", "rationales", cells, computed)
    assert "label unreadable" not in table.columns
    assert [r["label_unreadable"] for r in records] == [pytest.approx(0.0)] * 2
