"""Fixtures for the model-backend tests: the scripted fault server and the embedded GGUF."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest


def _load_fault_server() -> Any:
    """Import fault_server.py by path, whether or not tests/models is a package."""
    name = "faithscope_tests_fault_server"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("fault_server.py"))
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
