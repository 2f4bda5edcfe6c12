import pytest

from faithscope.data import DATASETS, list_datasets, load_dataset
from faithscope.errors import ConfigError, DataError
from faithscope.tasks import load_task
from faithscope.data import ag_news, comve, demo, ecqa, esnli, esnli_plain, fever, medical_bios, sentiment140

LOADER_LABELS = {"esnli": esnli.LABELS, "esnli-plain": esnli_plain.LABELS, "fever": fever.LABELS,
                 "medical_bios": medical_bios.LABELS, "demo": demo.LABELS,
                 "comve": comve.LABELS, "ecqa": ecqa.LABELS,
                 "agnews": ag_news.LABELS, "sentiment140": sentiment140.LABELS}


def test_registry_names_and_tasks():
    assert list_datasets() == ["agnews", "comve", "demo", "ecqa", "eraser", "esnli", "esnli-plain", "fever", "file",
                               "medical_bios", "sentiment140"]
    assert {name: spec.task for name, spec in DATASETS.items()} == {
        "esnli": "esnli", "esnli-plain": "esnli", "fever": "fever", "medical_bios": "medical_bios", "demo": "demo",
        "comve": "comve", "ecqa": "ecqa", "agnews": "agnews", "sentiment140": "sentiment140",
        "eraser": None, "file": None}  # eraser and file: the user's --task


@pytest.mark.parametrize("name", sorted(LOADER_LABELS))
def test_labels_and_fields_match_the_task(name, fixtures):
    task = load_task(DATASETS[name].task)
    assert set(LOADER_LABELS[name]) == set(task.labels)
    ds = load_dataset(name, fixtures)
    assert ds.examples and all(tuple(e.fields) == task.fields for e in ds.examples)


def test_demo_needs_no_data_dir(monkeypatch):
    monkeypatch.delenv("FAITHSCOPE_DATA", raising=False)
    ds = load_dataset("demo")
    assert (len(ds.examples), ds.task, ds.dataset, ds.skipped) == (48, "demo", "demo", 0)
    assert ds.path.endswith("demo.jsonl")


def test_missing_data_dir_message(monkeypatch, tmp_path):
    monkeypatch.delenv("FAITHSCOPE_DATA", raising=False)
    with pytest.raises(ConfigError) as info:
        load_dataset("fever")
    assert str(info.value) == ("dataset 'fever' needs a data directory holding fever/: "
                               "pass --data-dir DIR (data_dir=...) or set FAITHSCOPE_DATA")
    with pytest.raises(ConfigError, match="does not exist"):
        load_dataset("fever", tmp_path / "nowhere")
    with pytest.raises(DataError) as info2:
        load_dataset("fever", tmp_path)
    assert info2.value.path == str(tmp_path / "fever") and "FAITHSCOPE_DATA" in str(info2.value)


def test_env_var_and_path(monkeypatch, fixtures):
    monkeypatch.setenv("FAITHSCOPE_DATA", str(fixtures))
    ds = load_dataset("fever")
    assert [e.id for e in ds.examples] == ["1", "2"] and ds.path == str(fixtures / "fever")


def test_unknown_dataset_and_option(fixtures):
    with pytest.raises(ConfigError, match="unknown dataset 'snli'"):
        load_dataset("snli", fixtures)
    with pytest.raises(ConfigError, match="no option 'threshold'"):
        load_dataset("esnli", fixtures, threshold=2)
    assert load_dataset("esnli", fixtures, min_annotators=3).examples[0].rationale == frozenset({7})


def test_seeded_sample_is_deterministic_and_in_file_order():
    ids = [e.id for e in load_dataset("demo", n=5, seed=0).examples]
    assert ids == ["demo-03", "demo-17", "demo-25", "demo-27", "demo-33"]
    assert [e.id for e in load_dataset("demo", n=5, seed=0).examples] == ids
    assert [e.id for e in load_dataset("demo", n=5, seed=1).examples] == ["demo-05", "demo-08", "demo-09", "demo-17", "demo-37"]


def test_first_n_and_too_many():
    assert [e.id for e in load_dataset("demo", n=3, first=True, seed=7).examples] == ["demo-01", "demo-02", "demo-03"]
    ds = load_dataset("demo", n=100)
    assert len(ds.examples) == 48
    assert ds.note == "asked for 100 examples but only 48 are available; using all of them"
    with pytest.raises(ConfigError, match="positive integer"):
        load_dataset("demo", n=0)


def test_skip_invalid(fixtures):
    bad = fixtures / "bad"
    with pytest.raises(DataError, match="line 2"):
        load_dataset("fever", bad)
    ds = load_dataset("fever", bad, skip_invalid=True)
    assert [e.id for e in ds.examples] == ["1"]
    assert ds.skipped == 6 and len(ds.skipped_reasons) == 6
    assert ds.skipped_reasons[2].endswith(
        "line 4, field 'classification': unknown label 'NOT ENOUGH INFO'; expected one of supports, refutes")
