"""Shared fixtures: the embedded model is loaded once per test session (~15-20 s)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

REPO = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path | None:
    env = os.environ.get("FAITHSCOPE_DATA")
    for cand in ([Path(env)] if env else []) + [REPO.parent / "shared" / "data"]:
        if cand.is_dir():
            return cand
    return None


@pytest.fixture(scope="session")
def loaded_model():
    import torch

    from faithscope.models.loading import load_model

    torch.manual_seed(0)
    return load_model()


@pytest.fixture(scope="session")
def backend(loaded_model):
    from faithscope.models.hf import HFBackend

    return HFBackend(loaded_model, max_batch_tokens=4096, max_batch_size=8)


@pytest.fixture(scope="session")
def engine(backend):
    from faithscope.models.gradients import GradientEngine

    return GradientEngine(backend)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    d = shared_data_dir()
    if d is None:
        pytest.skip("../shared/data is not present (set FAITHSCOPE_DATA)")
    return d


@pytest.fixture(scope="session")
def lexicon():
    """WordNet 3.0 from Debian's wordnet-base; skips cleanly where those files are missing."""
    from faithscope.counterfactual.wordnet import load_lexicon
    from faithscope.errors import ConfigError

    try:
        return load_lexicon()
    except ConfigError as e:  # pragma: no cover - CI installs wordnet-base
        pytest.skip(str(e))


@pytest.fixture
def prediction_store():
    """Write a run store of yes/no examples (gold 'yes') with the given predictions; ``None`` is a
    reply that named no label (source 'unparseable'). Returns the run's composed tables."""
    import math

    from faithscope.reports.compose import compute
    from faithscope.reports.rundata import load_run
    from faithscope.runs.store import ResultStore
    from faithscope.types import Example, LabelScores

    labels = ("yes", "no")

    def write(run_dir: Path, preds: list[str | None]):
        store = ResultStore.in_dir(run_dir)
        store.set_meta(config={"dataset": "demo"}, model_identity={"model": "m"}, labels=list(labels))
        store.bind_examples([Example(f"e{i}", {"text": ("w",)}, "yes", frozenset()) for i in range(len(preds))])
        store.put_predictions(
            (f"e{i}", LabelScores(labels, (-math.inf, -math.inf), source="unparseable") if p is None
             else LabelScores(labels, tuple(-0.1 if lab == p else -3.0 for lab in labels)), None)
            for i, p in enumerate(preds))
        store.close()
        return compute(load_run(run_dir), 10)

    return write


# -- the scripted OpenAI-compatible server (tests/models/fault_server.py), for backend and sweep tests --
def _load_fault_server() -> Any:
    """Import fault_server.py by path, whether or not tests/models is a package."""
    name = "faithscope_tests_fault_server"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).parent / "models" / "fault_server.py")
        module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
        sys.modules[name] = module
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    return sys.modules[name]


fault_server_module = _load_fault_server()


@pytest.fixture
def fault_server() -> Iterator[Callable[..., Any]]:
    """Factory: ``fault_server(script, **options)`` starts a FaultServer, stopped after the test."""
    started: list[Any] = []

    def start(script: list[str] | None = None, **options: Any) -> Any:
        server = fault_server_module.FaultServer(script, **options).__enter__()
        started.append(server)
        return server

    yield start
    for server in started:
        server.__exit__(None, None, None)
