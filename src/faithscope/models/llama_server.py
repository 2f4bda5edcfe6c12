"""Start and stop a local llama.cpp OpenAI-compatible server (``python -m llama_cpp.server``).

Why: the HTTP backend is tested against a real server, not a mock, and users can evaluate a
GGUF file through the same code path as a remote API. The server comes from the optional
extra ``server`` (``pip install -e .[server]``, or ``scripts/build_llama_wheel.sh``).

    with LlamaServer(embedded_gguf_path(), n_ctx=2048) as base_url:
        backend = OpenAIBackend(base_url, "smollm2")

The server listens on 127.0.0.1 only, on a free port unless one is given; its output goes to
a log file whose tail is shown when it fails to start.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

import httpx

from ..errors import ModelError

INSTALL_HINT = "install the optional extra: `pip install -e .[server]` (or run scripts/build_llama_wheel.sh)"


def llama_cpp_available() -> bool:
    """Whether ``llama_cpp`` (llama-cpp-python) can be imported, without importing it."""
    return importlib.util.find_spec("llama_cpp") is not None


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free on ``host`` right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class LlamaServer:
    """A ``llama_cpp.server`` subprocess; as a context manager it yields the ``/v1`` base URL.

    ``model_alias`` is the model name the server reports (default: the file's stem).
    ``n_threads`` defaults to the server's own choice (half the cores); on a small machine
    shared with other work use 1: llama.cpp's spinning worker threads then slow token-by-token
    generation down about 20-fold. ``startup_timeout`` bounds the wait for ``/v1/models``.
    """

    def __init__(
        self,
        model_path: str | Path,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        n_ctx: int = 2048,
        n_threads: int | None = None,
        model_alias: str | None = None,
        startup_timeout: float = 120.0,
        extra_args: Sequence[str] = (),
        log_path: str | Path | None = None,
        python: str = sys.executable,
    ):
        self.model_path = Path(model_path)
        self.host, self.port, self.n_ctx, self.n_threads = host, port, n_ctx, n_threads
        self.model_alias = model_alias or self.model_path.stem
        self.startup_timeout, self.extra_args, self.python = startup_timeout, tuple(extra_args), python
        self.log_path = Path(log_path) if log_path else None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log = None
        self._own_log = False  # a temporary log we created is removed on stop

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def command(self) -> list[str]:
        """The server's command line (for logs and for users who start it by hand)."""
        cmd = [self.python, "-m", "llama_cpp.server", "--model", str(self.model_path), "--model_alias", self.model_alias,
               "--host", self.host, "--port", str(self.port), "--n_ctx", str(self.n_ctx)]
        if self.n_threads:
            cmd += ["--n_threads", str(self.n_threads), "--n_threads_batch", str(self.n_threads)]
        return cmd + list(self.extra_args)

    def start(self) -> str:
        """Start the server and wait until it answers; returns the base URL."""
        if not llama_cpp_available():
            raise ModelError(f"llama-cpp-python is not installed; {INSTALL_HINT}")
        if not self.model_path.is_file():
            raise ModelError(f"GGUF model file not found: {self.model_path}")
        if self.port is None:
            self.port = free_port(self.host)
        if self.log_path is None:
            fd, name = tempfile.mkstemp(prefix="faithscope-llama-server-", suffix=".log")
            os.close(fd)
            self.log_path, self._own_log = Path(name), True
        self._log = open(self.log_path, "wb")
        self._proc = subprocess.Popen(self.command(), stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                tail = self.log_tail()
                self.stop()
                raise ModelError(f"llama.cpp server exited with code {self._proc.returncode} while starting: {tail}")
            try:
                if httpx.get(self.base_url + "/models", timeout=2.0).status_code == 200:
                    return self.base_url
            except httpx.TransportError:
                pass
            time.sleep(0.25)
        tail = self.log_tail()
        self.stop()
        raise ModelError(f"llama.cpp server did not answer on {self.base_url} within {self.startup_timeout:g}s: {tail}")

    def log_tail(self, n_chars: int = 400) -> str:
        """The end of the server's log, on one line (for error messages)."""
        try:
            text = Path(self.log_path).read_text(errors="replace") if self.log_path else ""
        except OSError:
            return "(no log)"
        return " | ".join(line.strip() for line in text[-n_chars:].splitlines() if line.strip()) or "(empty log)"

    def stop(self, grace_s: float = 10.0) -> None:
        """Terminate the server (then kill it if it lingers) and close its log."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=grace_s)
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._own_log and self.log_path is not None:
            self.log_path.unlink(missing_ok=True)
            self.log_path, self._own_log = None, False

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
