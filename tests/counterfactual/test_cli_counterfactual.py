"""`faithscope counterfactual` end to end on the demo set with the embedded model (tiny settings)."""

import csv

import pytest

from faithscope import cli
from faithscope.metrics.counterfactual import COUNTERFACTUAL_METRICS


@pytest.fixture
def embedded_backend(monkeypatch, loaded_model):
    """Reuse the session's loaded model instead of loading it again inside the command."""
    import faithscope.runs.runner as runner
    from faithscope.models.hf import HFBackend

    monkeypatch.setattr(runner, "make_backend", lambda config, loaded_model_=None: HFBackend(loaded_model, max_batch_tokens=4096, max_batch_size=8))


def test_command_end_to_end_demo(tmp_path, embedded_backend, lexicon, capsys):
    out = tmp_path / "cf"
    args = ["counterfactual", "--dataset", "demo", "-n", "2", "--positions", "1", "--words", "2",
            "--max-new-tokens", "24", "--output-dir", str(out)]
    cli.main(args)
    with open(out / "counterfactual.csv", newline="") as f:
        rec = next(csv.DictReader(f))
    assert rec["dataset"] == "demo" and rec["style"] == "instruction" and rec["order"] == "pe"
    assert int(rec["n_examples"]) == 2 and 1 <= int(rec["n_interventions"]) <= 4
    for m in COUNTERFACTUAL_METRICS:
        assert m in rec
    assert 0.0 <= float(rec["parse_failure_rate"]) <= 1.0
    # rerun: resumes, nothing left to do, same table
    cli.main(args)
    with open(out / "counterfactual.csv", newline="") as f:
        assert next(csv.DictReader(f)) == rec
    # bad input: one line, exit 2
    with pytest.raises(SystemExit) as info:
        cli.main(["counterfactual", "--dataset", "demo", "--order", "xx", "--output-dir", str(tmp_path / "bad")])
    assert info.value.code == 2
    assert "--order must be one of" in capsys.readouterr().err
