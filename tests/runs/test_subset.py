"""run(config, examples=...): a caller-chosen subset is what the run scores and stores."""

from __future__ import annotations

import pytest

from faithscope.data import load_dataset
from faithscope.errors import ConfigError
from faithscope.runs.config import RunConfig
from faithscope.runs.runner import run


def test_run_on_a_chosen_subset(loaded_model, tmp_path):
    demo = load_dataset("demo").examples
    longest = sorted(demo, key=lambda e: (-e.n_words, e.id))[:2]
    config = RunConfig(dataset="demo", methods=("all-words",), output_dir=str(tmp_path), progress=False)
    result = run(config, loaded_model=loaded_model, examples=longest)
    assert [e.id for e in result.examples] == [e.id for e in longest]
    assert set(result.store.predictions()) == {e.id for e in longest}
    assert "2 examples of demo chosen by the caller" in result.store.get_meta("sample_note")
    with pytest.raises(ConfigError, match="subset is empty"):
        run(config, loaded_model=loaded_model, examples=[])
