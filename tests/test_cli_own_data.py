"""Your own data and tasks through the CLI (issue 16): a real `faithscope run` on a user JSONL
file with a user task file and on an ERASER-format directory, `task check`, `list tasks`,
one-line errors."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from faithscope.cli import main
from faithscope.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples" / "own-data"
TASK = EXAMPLES / "sentiment.toml"
REVIEWS = EXAMPLES / "reviews.jsonl"
ERASER_DIR = EXAMPLES / "eraser-reviews"


def run_cli(args, capsys):
    code = 0
    try:
        main([str(a) for a in args])
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def embedded(monkeypatch, loaded_model):
    """The CLI loads the session's already loaded embedded model instead of loading it again."""
    import faithscope.models.loading as loading

    monkeypatch.setattr(loading, "load_model", lambda spec=None: loaded_model)
    monkeypatch.setattr(loading, "load_tokenizer", lambda spec=None: loaded_model.tokenizer)
    return loaded_model


def _table_lines(path: Path, names: tuple[str, ...]) -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    return {n: next(ln for ln in text.splitlines() if ln.startswith("|") and n in ln) for n in names}


def test_cli_run_on_a_user_jsonl_with_a_user_task_file(tmp_path, capsys, embedded):
    out = tmp_path / "reviews"
    # no prompting method: generation is the slow part on a shared CPU, and prompting is covered on the demo set
    code, stdout, err = run_cli(["run", "--data-file", REVIEWS, "--task", TASK, "-n", 4, "--methods",
                                 "input_x_gradient,random,human,all-words", "--output-dir", out, "--no-progress"], capsys)
    assert code == 0, err
    assert "accuracy" in stdout
    report = out / "report"
    rows = _table_lines(report / "table2_alignment.md", ("Human", "Random", "Input×Gradient"))
    assert "| 100" in rows["Human"].replace(" 100.00", " 100")  # the human rationale aligns perfectly with itself
    assert (report / "table4_faithfulness.md").is_file()
    _table_lines(report / "table4_faithfulness.md", ("All", "Input×Gradient"))
    stored = json.loads((out / "report" / "summary.json").read_text(encoding="utf-8"))
    assert stored
    from faithscope.runs.store import ResultStore

    store = ResultStore.open_existing(out)
    try:
        config = store.get_meta("config_result")
        assert store.get_meta("task") == "sentiment" and store.get_meta("labels") == ["positive", "negative"]
        assert len(store.get_meta("example_ids")) == 4
    finally:
        store.close()
    assert config["dataset"] == "file" and config["task"] == str(TASK)
    assert config["task_sha256"] == hashlib.sha256(TASK.read_bytes()).hexdigest()
    assert config["data_sha256"] == hashlib.sha256(REVIEWS.read_bytes()).hexdigest()


def test_cli_run_on_an_eraser_directory_and_a_changed_task_file_is_refused(tmp_path, capsys, embedded):
    task = tmp_path / "sentiment.toml"
    shutil.copy(TASK, task)
    out = tmp_path / "eraser"
    args = ["run", "--dataset", "eraser", "--data-dir", ERASER_DIR, "--task", task, "-n", 4,
            "--methods", "random,human,all-words", "--output-dir", out, "--no-progress"]
    code, stdout, err = run_cli(args, capsys)
    assert code == 0, err
    rows = _table_lines(out / "report" / "table2_alignment.md", ("Human", "Random"))
    assert "100" in rows["Human"]
    _table_lines(out / "report" / "table4_faithfulness.md", ("Human", "All"))
    # the same command again: nothing to do, no model needed
    code, _, err = run_cli(args, capsys)
    assert code == 0 and "nothing to do" in err
    # an edited task file is another configuration: refused in one line, never mixed
    task.write_text(task.read_text(encoding="utf-8").replace("Sentiment of a short", "Sentiment of one"), encoding="utf-8")
    code, _, err = run_cli(args, capsys)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2 and len(lines) == 1 and "task_sha256" in lines[0], err


def test_task_check_renders_each_prompt_with_a_real_record(capsys, embedded):
    code, out, err = run_cli(["task", "check", TASK, "--example-file", REVIEWS], capsys)
    assert code == 0, err
    first = "The kettle boils quickly and looks lovely on the counter."
    assert f"task 'sentiment' ({TASK}) is valid" in out
    ids = embedded.tokenizer(" positive", add_special_tokens=False).input_ids
    assert f"label 'positive': verbalizer ' positive' -> tokens {list(ids)}" in out
    assert f"example: {REVIEWS}, line 1; label 'positive'; human rationale: 3:quickly, 6:lovely" in out
    assert '--- classification prompt' in out and f'Review: "{first}"\n\nDecide whether' in out
    assert f'Review: "{first}" Label: positive\n\nIdentify the top 2 most important words' in out  # k = 2 marked words
    assert "Label: positive\n\n--- unbound" in out  # attribution prompt ends with the target verbalizer


def test_list_tasks_shows_builtin_and_given_ones_with_paths(capsys, monkeypatch, tmp_path):
    (tmp_path / "broken.toml").write_text("fields = [", encoding="utf-8")
    monkeypatch.setenv("FAITHSCOPE_TASKS", str(tmp_path))
    code, out, _ = run_cli(["list", "tasks", "--task-dir", EXAMPLES], capsys)
    assert code == 0
    assert any(ln.startswith("sentiment") and "[--task-dir]" in ln and str(TASK) in ln and "labels=positive,negative" in ln
               for ln in out.splitlines())
    assert any(ln.startswith("broken") and "[FAITHSCOPE_TASKS] INVALID: not valid TOML" in ln for ln in out.splitlines())
    assert any(ln.startswith("fever") and "[built-in]" in ln for ln in out.splitlines())


@pytest.mark.parametrize("args, needle", [
    (["run", "--data-file", REVIEWS], "--data-file needs --task NAME or --task FILE.toml"),
    (["run", "--data-file", REVIEWS, "--dataset", "fever", "--task", TASK], "cannot be combined with --dataset fever"),
    (["run", "--dataset", "eraser", "--data-dir", EXAMPLES, "--task", TASK], "test.jsonl: file not found; an ERASER directory holds"),
    (["run", "--data-file", REVIEWS, "--task", "nope.toml"], "--task nope.toml: task file not found"),
    (["run", "--data-file", REVIEWS, "--task", "nosuchtask"], "unknown task 'nosuchtask'"),
    (["run", "--data-file", REVIEWS, "--task", "fever"], "field 'review_marked': no task field 'review' to mark; the fields are claim, evidence"),
    (["run", "--dataset", "fever", "--task", TASK], "task 'sentiment' has fields ['review'] but dataset 'fever' gives ['claim', 'evidence']"),
    (["run", "--split", "val"], "--split chooses the file of an ERASER directory"),
    (["run", "--data-file", "data.txt", "--task", TASK], "unknown extension '.txt'"),
    (["task", "check", "nope.toml", "--no-tokenizer"], "--task nope.toml: task file not found"),
])
def test_own_data_mistakes_are_one_line_exit_2(args, needle, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # default run directories land in the test's folder
    code, out, err = run_cli(args, capsys)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2 and len(lines) == 1, err
    assert lines[0].startswith("error: ") and needle in lines[0], lines[0]


def test_bad_task_file_in_task_check_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(TASK.read_text(encoding="utf-8").replace("top {k} most", "top most").replace("the top {k} words", "the top words"), encoding="utf-8")
    code, _, err = run_cli(["task", "check", bad, "--no-tokenizer"], capsys)
    assert code == 2 and err.strip() == f"error: {bad}: prompt 'topk' lacks placeholder(s) {{k}}"


def test_runner_refuses_a_verbalizer_that_encodes_to_nothing(tmp_path, backend):
    """The tokenizer check of the runner's preflight, with a backend whose tokenizer drops one verbalizer."""
    from faithscope.runs.config import RunConfig
    from faithscope.runs.runner import Runner

    class DropsNegative:
        def __init__(self, inner):
            self.inner = inner

        def __getattr__(self, name):
            return getattr(self.inner, name)

        def verbalizer_ids(self, text):
            return () if text == " negative" else self.inner.verbalizer_ids(text)

    config = RunConfig(data_file=str(REVIEWS), task=str(TASK), methods=("human",), output_dir=str(tmp_path / "r"), progress=False)
    with pytest.raises(ConfigError) as info:
        Runner(config, backend=DropsNegative(backend))
    assert str(info.value) == (f"{TASK}: the verbalizer ' negative' of label 'negative' encodes to no tokens with this model's "
                               "tokenizer; give it visible text, e.g. \" negative\"")
    assert not (tmp_path / "r").exists()  # refused before anything was stored
