"""Bad input and interruptions against the real CLI (issue 12): every case is exit 2 with
exactly one line on stderr and no traceback (130/143 for Ctrl-C/SIGTERM), and nothing is
lost: a store the command refused is byte-for-byte unchanged, an interrupted run keeps every
committed batch and a rerun resumes it.

Most cases fail before any model is loaded and run in-process through ``cli.main``; the
interruptions run ``python -m faithscope.cli run`` as subprocesses (one model load each).
The module writes a Markdown table (case | exit | message | lost) to
``$FAITHSCOPE_BAD_INPUT_TABLE`` (default: a file in the temp directory) and prints its path.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from faithscope.cli import main

RESULTS: list[tuple[str, int, str, str]] = []
SRC = Path(__file__).resolve().parents[1] / "src"


@pytest.fixture(scope="module", autouse=True)
def markdown_table(request):
    yield
    path = Path(os.environ.get("FAITHSCOPE_BAD_INPUT_TABLE", Path(tempfile.gettempdir()) / "faithscope_bad_input.md"))
    lines = ["| case | exit | message | lost |", "|---|---|---|---|"]
    for case, code, message, lost in RESULTS:
        cell = message.replace("|", "\\|")
        lines.append(f"| {case} | {code} | {cell} | {lost} |")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(f"bad-input table ({len(RESULTS)} cases): {path}")


def digest(path: Path) -> str:
    """Hash of every file under ``path`` (names and bytes): unchanged means nothing lost."""
    h = hashlib.sha256()
    for p in sorted(path.rglob("*")) if path.is_dir() else [path]:
        if p.is_file():
            h.update(str(p.relative_to(path) if path.is_dir() else p.name).encode())
            h.update(p.read_bytes())
    return h.hexdigest()


def cli(args: list[str], capsys) -> tuple[int, str, str]:
    code = 0
    try:
        main(args)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    out = capsys.readouterr()
    return code, out.out, out.err


def check_one_line(case: str, code: int, err: str, needle: str, expected_code: int = 2, lost: str = "nothing") -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    RESULTS.append((case, code, lines[0] if len(lines) == 1 else " / ".join(lines), lost))
    assert "Traceback" not in err
    assert code == expected_code, err
    assert len(lines) == 1, err
    assert needle in lines[0], lines[0]
    return lines[0]


# -- a store to damage: a valid SQLite result store with some rows --------------------------------
def make_store(run_dir: Path) -> Path:
    from faithscope.runs.store import ResultStore

    store = ResultStore.in_dir(run_dir)
    store.set_meta(note="rows that must survive")
    with store.db:
        store.db.executemany("INSERT INTO timings VALUES (?,?,?)", [(f"stage-{i}-" + "x" * 200, 1.0, i) for i in range(400)])
    store.close()
    return run_dir / "results.sqlite"


def damage(kind: str, run_dir: Path) -> None:
    path = make_store(run_dir)
    data = bytearray(path.read_bytes())
    if kind == "garbage":
        path.write_bytes(b"not a database at all\n" * 50)
    elif kind == "truncated":
        path.write_bytes(bytes(data[: len(data) // 2]))
    elif kind == "damaged-middle":
        mid = len(data) // 2
        data[mid:mid + 4096] = b"\xff" * 4096
        path.write_bytes(bytes(data))
    elif kind == "bad-header":
        data[16:100] = b"\x00" * 84
        path.write_bytes(bytes(data))
    elif kind == "directory":
        path.unlink()
        path.mkdir()


STORE_DAMAGE = ["garbage", "truncated", "damaged-middle", "bad-header", "directory"]


@pytest.mark.parametrize("kind", STORE_DAMAGE)
def test_run_refuses_a_damaged_store_without_writing(kind, tmp_path, capsys):
    run_dir = tmp_path / "run"
    damage(kind, run_dir)
    before = digest(run_dir)
    code, _, err = cli(["run", "--output-dir", str(run_dir), "--no-progress"], capsys)
    line = check_one_line(f"run: results.sqlite {kind}", code, err, "results.sqlite")
    assert "move it aside" in line or "not a file" in line
    assert digest(run_dir) == before, "the damaged store was written to"


def test_run_refuses_a_store_of_another_schema(tmp_path, capsys):
    from faithscope.runs.store import ResultStore

    run_dir = tmp_path / "run"
    make_store(run_dir)
    store = ResultStore.in_dir(run_dir)
    store.set_meta(schema=1)
    store.close()
    before = digest(run_dir)
    code, _, err = cli(["run", "--output-dir", str(run_dir), "--no-progress"], capsys)
    check_one_line("run: store of an older schema (method 'all')", code, err, "store schema 1")
    assert digest(run_dir) == before


@pytest.mark.parametrize("kind", STORE_DAMAGE[:4])
def test_report_refuses_a_damaged_store(kind, tmp_path, capsys):
    run_dir = tmp_path / "run"
    damage(kind, run_dir)
    before = digest(run_dir)
    code, _, err = cli(["report", str(run_dir), "--out", str(tmp_path / "rep")], capsys)
    check_one_line(f"report: results.sqlite {kind}", code, err, "move it aside")
    assert digest(run_dir) == before


def _adapter_dir(tmp_path: Path, weights: str | None) -> str:
    d = tmp_path / "adapter"
    d.mkdir()
    if weights:
        (d / weights).write_bytes(b"\x00" * 16)
    return str(d)


def _model_dir(tmp_path: Path, files: tuple[str, ...]) -> str:
    d = tmp_path / "model"
    d.mkdir()
    for f in files:
        (d / f).write_text("{}", encoding="utf-8")
    return str(d)


# (case, args builder(tmp_path) -> args, needle); all fail before any model is loaded
CASES = [
    ("--mask bogus", lambda t: ["run", "--mask", "bogus"], "unknown --mask 'bogus'"),
    ("--methods nope", lambda t: ["run", "--methods", "nope"], "unknown method 'nope'"),
    ("--methods human,all (old name)", lambda t: ["run", "--methods", "human,all"], "all-words"),
    ("--target entropy", lambda t: ["run", "--target", "entropy"], "entropy"),
    ("--reduction max", lambda t: ["run", "--reduction", "max"], "max"),
    ("--attention first", lambda t: ["run", "--attention", "first"], "first"),
    ("-n abc", lambda t: ["run", "-n", "abc"], "valid integer"),
    ("-n 0", lambda t: ["run", "-n", "0"], "-n must be a positive"),
    ("--batch-size 0", lambda t: ["run", "--batch-size", "0"], "--batch-size must be positive"),
    ("--random-draws 0", lambda t: ["run", "--random-draws", "0"], "--random-draws"),
    ("--min-annotators 0", lambda t: ["run", "--min-annotators", "0", "--output-dir", str(t / "o")], "--min-annotators"),
    ("--dataset imagenet", lambda t: ["run", "--dataset", "imagenet"], "imagenet"),
    ("--data-dir missing", lambda t: ["run", "--dataset", "fever", "--data-dir", "/nonexistent/dir"], "/nonexistent/dir"),
    ("--backend openai without --base-url", lambda t: ["run", "--backend", "openai"], "--base-url"),
    ("--extra-body not JSON", lambda t: ["run", "--backend", "openai", "--base-url", "http://127.0.0.1:9/v1", "--extra-body", "{repeat"], "not valid JSON"),
    ("--extra-body a list", lambda t: ["run", "--backend", "openai", "--base-url", "http://127.0.0.1:9/v1", "--extra-body", "[1]"], "JSON object"),
    ("--extra-body without openai", lambda t: ["run", "--extra-body", '{"a": 1}'], "needs --backend openai"),
    ("unknown option", lambda t: ["run", "--bogus-flag"], "No such option"),
    ("--prompt-format xml", lambda t: ["run", "--prompt-format", "xml", "--output-dir", str(t / "o")], "--prompt-format 'xml'"),
    ("--max-length 0", lambda t: ["run", "--max-length", "0", "--output-dir", str(t / "o")], "--max-length 0"),
    ("--max-length -5", lambda t: ["run", "--max-length", "-5", "--output-dir", str(t / "o")], "--max-length -5"),
    ("--dtype int8", lambda t: ["run", "--dtype", "int8", "--output-dir", str(t / "o")], "unknown dtype 'int8'"),
    ("--device banana", lambda t: ["run", "--device", "banana", "--output-dir", str(t / "o")], "--device 'banana'"),
    ("--adapter missing", lambda t: ["run", "--adapter", str(t / "nope"), "--output-dir", str(t / "o")], "not a PEFT adapter directory"),
    ("--adapter without weights", lambda t: ["run", "--adapter", _adapter_dir(t, None), "--output-dir", str(t / "o")], "not a PEFT adapter directory"),
    ("--adapter pickled weights", lambda t: ["run", "--adapter", _adapter_dir(t, "adapter_model.bin"), "--output-dir", str(t / "o")], "pickled adapter"),
    ("--model missing absolute path", lambda t: ["run", "--model", str(t / "no-model"), "--output-dir", str(t / "o")], "no such directory"),
    ("--model missing relative path", lambda t: ["run", "--model", "./no/such/model", "--output-dir", str(t / "o")], "no such directory"),
    ("--model dir with config, no tokenizer", lambda t: ["run", "--model", _model_dir(t, ("config.json",)), "--output-dir", str(t / "o")], "no tokenizer"),
    ("--model dir without config.json", lambda t: ["run", "--model", _model_dir(t, ("tokenizer.json",)), "--output-dir", str(t / "o")], "no config.json"),
    ("--model a file", lambda t: ["run", "--model", str(_file(t / "weights.bin")), "--output-dir", str(t / "o")], "is a file"),
    ("--gguf-file missing", lambda t: ["run", "--model", _model_dir(t, ("config.json",)), "--gguf-file", "x.gguf", "--output-dir", str(t / "o")], "not found"),
    ("--output-dir is a file", lambda t: ["run", "--output-dir", str(_file(t / "out.txt"))], "is an existing file"),
    ("--output-dir under a file", lambda t: ["run", "--output-dir", str(_file(t / "out.txt") / "run")], "is a file"),
    ("openai backend + gradient method", lambda t: ["run", "--backend", "openai", "--base-url", "http://127.0.0.1:9/v1", "--methods", "saliency",
                                                    "--output-dir", str(t / "o")], "need gradients"),
    ("report: not a run directory", lambda t: ["report", str(t / "nope")], "not a faithscope run directory"),
    ("report --out is a file", lambda t: ["report", str(make_store(t / "run").parent), "--out", str(_file(t / "rep.txt"))], "is an existing file"),
    ("finetune --mask bogus", lambda t: ["finetune", "--mask", "bogus", "--output-dir", str(t / "ft")], "unknown --mask 'bogus'"),
    ("finetune --target entropy", lambda t: ["finetune", "--target", "entropy", "--output-dir", str(t / "ft")], "entropy"),
    ("finetune --top-logprobs (removed)", lambda t: ["finetune", "--top-logprobs", "5"], "No such option"),
    ("finetune --methods nope", lambda t: ["finetune", "--methods", "nope", "--output-dir", str(t / "ft")], "unknown method 'nope'"),
    ("list bogus", lambda t: ["list", "bogus"], "No such command"),
]


def _file(path: Path) -> Path:
    path.write_text("x", encoding="utf-8")
    return path


@pytest.mark.parametrize("case, build, needle", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_one_line_exit_2(case, build, needle, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = build(tmp_path)
    before = digest(tmp_path)
    code, _, err = cli(args, capsys)
    check_one_line(case, code, err, needle)
    assert not (tmp_path / "o").exists() and not (tmp_path / "runs").exists(), "a failed run left a run directory"
    assert digest(tmp_path) == before, "a failed command changed files"


def test_unreachable_hub_id_is_one_line_without_retries(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    start = time.perf_counter()
    code, _, err = cli(["run", "--model", "no-such-org/no-such-model", "--output-dir", str(tmp_path / "o")], capsys)
    check_one_line("--model hub id, not cached, hub unreachable", code, err, "not in the local Hugging Face cache")
    assert time.perf_counter() - start < 30 and not (tmp_path / "o").exists()


def test_cuda_device_on_cpu_only_torch(tmp_path, capsys):
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    code, _, err = cli(["run", "--device", "cuda", "--output-dir", str(tmp_path / "o")], capsys)
    check_one_line("--device cuda on CPU-only torch", code, err, "no usable CUDA device")
    assert not (tmp_path / "o").exists()


def test_read_only_run_directory(tmp_path, capsys, monkeypatch):
    """As root every directory is writable, so the permission is simulated there."""
    run_dir = tmp_path / "run"
    make_store(run_dir)
    before = digest(run_dir)
    if os.geteuid() == 0:
        real = os.access
        monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if (mode & os.W_OK and Path(p) in (run_dir, run_dir / "results.sqlite"))
                            else real(p, mode, **kw))
    else:
        run_dir.chmod(0o555)
    try:
        code, _, err = cli(["run", "--output-dir", str(run_dir)], capsys)
        check_one_line("run: read-only run directory", code, err, "not writable")
        code, _, err = cli(["report", str(run_dir)], capsys)
        check_one_line("report (default --out) on a read-only run directory", code, err, "pass --out DIR")
    finally:
        run_dir.chmod(0o755)
    assert digest(run_dir) == before


# -- interruptions and the lock: real subprocesses on the demo set ----------------------------------
N = 12
METHODS = "human,random,all-words"


def _cmd(out: Path) -> list[str]:
    return [sys.executable, "-m", "faithscope.cli", "run", "--dataset", "demo", "-n", str(N), "--first", "--methods", METHODS,
            "--batch-size", "1", "--output-dir", str(out), "--no-progress", "--no-report"]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(SRC) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def _count(db: Path, table: str) -> int:
    try:
        with sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=1) as c:
            return c.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
    except sqlite3.Error:
        return 0


def _interrupt_all(runs: dict[str, tuple[Path, int]]) -> dict[str, tuple]:
    """Start one run per entry at once (one model load each, in parallel), signal each once its
    store holds rows; per name: (dir, exit, stderr, rows at signal, rows after)."""
    procs = {name: subprocess.Popen(_cmd(out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
             for name, (out, _) in runs.items()}
    rows = lambda out: _count(out / "results.sqlite", "predictions") + _count(out / "results.sqlite", "masked")  # noqa: E731
    at_signal: dict[str, int] = {}
    deadline = time.time() + 540
    while len(at_signal) < len(runs) and time.time() < deadline:
        for name, (out, sig) in runs.items():
            if name not in at_signal and (_count(out / "results.sqlite", "predictions") > 0 or procs[name].poll() is not None):
                at_signal[name] = rows(out)
                procs[name].send_signal(sig)
        time.sleep(0.05)
    result = {}
    for name, (out, _) in runs.items():
        _, err = procs[name].communicate(timeout=120)
        result[name] = (out, procs[name].returncode, err, at_signal.get(name, 0), rows(out))
    return result


@pytest.fixture(scope="module")
def interrupted_runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("interrupt")
    return _interrupt_all({"sigint": (base / "a", signal.SIGINT), "sigterm": (base / "b", signal.SIGTERM)})


@pytest.mark.parametrize("name, code", [("sigint", 130), ("sigterm", 143)])
def test_interrupted_run_exits_130_143_and_keeps_batches(interrupted_runs, name, code):
    out, rc, err, at_signal, after = interrupted_runs[name]
    check_one_line(f"run interrupted by {name.upper()}", rc, err, "interrupted — rerun the same command to resume",
                   expected_code=code, lost=f"no ({after} rows kept, {at_signal} when signalled)")
    assert after >= at_signal > 0


def test_rerun_resumes_an_interrupted_run(interrupted_runs):
    out, *_ = interrupted_runs["sigint"]
    kept = _count(out / "results.sqlite", "predictions")
    done = subprocess.run(_cmd(out), capture_output=True, text=True, env=_env(), timeout=1200)
    assert done.returncode == 0, done.stderr
    assert f"resuming: {kept} of {N} examples classified" in done.stderr
    assert _count(out / "results.sqlite", "predictions") == N


class FakeBackend:
    """Label scores from a hash of the prompt: a finished store without loading a model, with
    the identity the embedded model's files give (so a rerun finds nothing to do)."""

    supports_gradients = False
    no_gradient_reason = "fake backend"
    context_window = 100_000

    def __init__(self):
        from faithscope.models.loading import ModelSpec, resolve

        self.identity = resolve(ModelSpec())[2]

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def score_labels(self, texts, verbalizers):
        from faithscope.types import LabelScores

        labels = tuple(verbalizers)
        out = []
        for t in texts:
            h = hashlib.sha256(t.encode()).digest()
            out.append(LabelScores(labels, tuple(-1.0 - h[i] / 64 for i in range(len(labels)))))
        return out


@pytest.fixture
def finished_run(tmp_path):
    from faithscope.methods import get_method
    from faithscope.runs.config import RunConfig
    from faithscope.runs.runner import Runner

    out = tmp_path / "done"
    config = RunConfig(dataset="demo", n=N, first=True, methods=tuple(METHODS.split(",")), batch_size=1, output_dir=str(out), progress=False)
    assert not any(get_method(m).needs_gradients for m in config.methods)
    Runner(config, backend=FakeBackend()).run().store.close()
    return out


def test_nothing_to_do_without_a_model_lock_wait_and_read_only_report(finished_run, capsys):
    out = finished_run
    # stale lock file of a dead process: taken over; nothing left to do: no model is loaded
    (out / "run.lock").write_text(json.dumps({"pid": 999999, "host": "elsewhere", "since": 0}), encoding="utf-8")
    start = time.perf_counter()
    again = subprocess.run(_cmd(out), capture_output=True, text=True, env=_env(), timeout=300)
    elapsed = time.perf_counter() - start
    assert again.returncode == 0, again.stderr
    assert again.stderr.strip() == f"nothing to do: {N} of {N} done"
    RESULTS.append(("rerun of a finished run (stale lock of a dead pid)", 0, f"nothing to do: {N} of {N} done ({elapsed:.1f} s)", "nothing"))
    # a second run while the lock is held: one line naming the holder
    fd = os.open(out / "run.lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({"pid": os.getpid(), "host": "testhost", "since": time.time()}).encode())
        before = digest(out)
        code, _, err = cli(_cmd(out)[3:], capsys)
        check_one_line("second run while the directory is locked", code, err, f"pid {os.getpid()} on testhost")
        assert "--wait" in err and digest(out) == before
        # --wait: blocks until the holder releases it, then finds nothing to do
        import threading

        threading.Timer(1.5, lambda: fcntl.flock(fd, fcntl.LOCK_UN)).start()
        start = time.perf_counter()
        code, _, err = cli(_cmd(out)[3:] + ["--wait"], capsys)
        assert code == 0 and f"nothing to do: {N} of {N} done" in err and time.perf_counter() - start >= 1.4
    finally:
        os.close(fd)
    # the report of a finished run opens its store read-only: nothing in the run directory changes
    before = digest(out)
    code, stdout, err = cli(["report", str(out), "--out", str(out.parent / "elsewhere")], capsys)
    assert code == 0, err
    assert digest(out) == before
