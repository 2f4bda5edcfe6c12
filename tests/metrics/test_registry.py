"""The metric registry in faithscope.metrics: names, ranges and directions."""

import pytest

import faithscope.metrics as fm
from faithscope.errors import ConfigError

EXPECTED = {
    "alignment_f1_micro": True,
    "alignment_f1_macro": True,
    "alignment_f1_macro_field": True,
    "iou_f1": True,
    "iou_f1_micro": True,
    "auprc": True,
    "precision": True,
    "recall": True,
    "flip_rate": True,
    "logprob_change": False,
    "comprehensiveness": True,
    "sufficiency": False,
    "aopc_comprehensiveness": True,
    "aopc_sufficiency": False,
    "ct_flip_rate": True,
    "ct_unfaithfulness": False,
    "cct": True,
    "phi_cct": True,
    "tpr": True,
    "fpr": False,
    "verbosity": False,
    "sc_faithful": True,
    "sc_faithful_parsed": True,
    "sc_correct": True,
    "sc_faithful_correct": True,
    "sc_unparsed": False,
    "sc_word_flip": True,
    "sc_word_flip_random": True,
    "sc_word_prob_drop": True,
    "sc_word_prob_drop_random": True,
}


def test_registry_names_and_directions():
    infos = fm.list_metrics()
    assert [m.name for m in infos] == list(EXPECTED)
    assert {m.name: m.higher_is_better for m in infos} == EXPECTED
    assert set(fm.METRICS) == set(EXPECTED)


def test_ranges_and_families():
    for m in fm.list_metrics():
        lo, hi = m.range
        assert lo < hi, m.name
        assert m.description
        assert m.family in ("alignment", "faithfulness", "counterfactual", "self_consistency")
    assert fm.get_metric("flip_rate").range == (0.0, 1.0)
    assert fm.get_metric("comprehensiveness").range == (-1.0, 1.0)


def test_unknown_metric_is_a_config_error():
    with pytest.raises(ConfigError, match="flip_rate"):
        fm.get_metric("flips")


def test_public_api_is_exported():
    for name in fm.__all__:
        assert hasattr(fm, name), name


def test_headers_arrows_and_percent_display_come_from_the_entry():
    micro = fm.get_metric("alignment_f1_micro")
    assert micro.header == "micro F1 ↑" and micro.percent and micro.table == 2
    lp = fm.get_metric("logprob_change")
    assert lp.header == "Δ log p ↓" and not lp.percent and lp.range_text() == "[-inf, inf]"
    assert fm.get_metric("comprehensiveness").range_text() == "[-1, 1]"
    assert not fm.get_metric("comprehensiveness").percent


def test_table_columns_are_the_entries_marked_for_that_table():
    assert [m.name for m in fm.table_metrics(2)] == [
        "alignment_f1_micro", "alignment_f1_macro", "alignment_f1_macro_field", "iou_f1", "auprc", "precision", "recall"]
    assert [m.name for m in fm.table_metrics(4)] == ["flip_rate", "logprob_change", "comprehensiveness", "sufficiency",
                                                    "aopc_comprehensiveness", "aopc_sufficiency"]
    assert all(m.table in (None, 2, 4) for m in fm.list_metrics())


def test_cli_list_metrics_prints_every_registry_entry(capsys):
    from faithscope.cli import main

    try:
        main(["list", "metrics"])
    except SystemExit as exc:
        assert exc.code in (0, None)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(fm.METRICS)
    by_name = {line.split()[0]: line for line in lines}
    assert set(by_name) == set(fm.METRICS)
    for m in fm.list_metrics():
        line = by_name[m.name]
        assert m.range_text() in line and m.arrow in line and m.description in line
        assert ("higher better" if m.higher_is_better else "lower better") in line
    assert "[-inf, inf]" in by_name["logprob_change"] and "↓ lower better" in by_name["logprob_change"]
    assert "table 2" in by_name["auprc"]
