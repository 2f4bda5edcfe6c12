"""The metric registry in faithscope.metrics: names, ranges and directions."""

import pytest

import faithscope.metrics as fm
from faithscope.errors import ConfigError

EXPECTED = {
    "alignment_f1_micro": True,
    "alignment_f1_macro": True,
    "precision": True,
    "recall": True,
    "iou_f1": True,
    "auprc": True,
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
        assert m.family in ("alignment", "faithfulness", "counterfactual")
    assert fm.get_metric("flip_rate").range == (0.0, 1.0)
    assert fm.get_metric("comprehensiveness").range == (-1.0, 1.0)


def test_unknown_metric_is_a_config_error():
    with pytest.raises(ConfigError, match="flip_rate"):
        fm.get_metric("flips")


def test_public_api_is_exported():
    for name in fm.__all__:
        assert hasattr(fm, name), name
