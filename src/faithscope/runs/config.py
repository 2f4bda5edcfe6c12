"""The resolved configuration of a run, and which of its keys change results.

A run directory belongs to one configuration: its hash over the *result-affecting* keys is
stored in the result store, and reopening the directory with a different configuration is
refused (the differing keys are named) rather than mixing results. Speed knobs (batch sizes,
token budget) do not change results and may differ between a run and its resumption.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from ..errors import ConfigError
from ..methods import DEFAULT_METHODS
from ..models.batching import DEFAULT_MAX_BATCH_TOKENS
from ..models.gradients import DEFAULT_IG_STEPS, AttributionConfig
from ..models.loading import ModelSpec

MASK_STRATEGIES = ("delete", "placeholder")
BACKENDS = ("transformers", "openai")
#: Keys that only change speed or where output goes, never the numbers.
NON_RESULT_KEYS = frozenset({"output_dir", "data_dir", "batch_size", "max_batch_tokens", "concurrency", "timeout", "max_retries", "progress",
                             "task_dir"})
#: Result keys of your own data and tasks, left out of the hash while unset, so that the runs
#: (and default run directories) of built-in datasets keep the identity they had before them.
OPTIONAL_RESULT_KEYS = ("task", "task_path", "task_sha256", "data_file", "data_sha256", "split")
#: Datasets that build their fields from a task the user names (``--task``).
USER_TASK_DATASETS = ("eraser", "file")


@dataclass
class RunConfig:
    """Everything a ``faithscope run`` needs; every field is a CLI option."""

    dataset: str = "demo"
    data_dir: str | None = None
    task: str | None = None
    """``--task``: a task name or a task file (``FILE.toml``); default: the dataset's built-in task."""
    task_dir: tuple[str, ...] = ()
    """``--task-dir``: folders searched for ``--task NAME`` before ``FAITHSCOPE_TASKS`` and the built-in ones."""
    data_file: str | None = None
    """``--data-file``: your own JSONL/CSV/Parquet file (dataset ``file``)."""
    split: str | None = None
    """``--split`` of an ERASER directory (train, val, test; default test)."""
    task_path: str | None = None
    """The task file ``--task`` resolved to, and the hash of its bytes (set by
    :func:`faithscope.runs.runner.resolve_run_task`): a changed task file is another run."""
    task_sha256: str | None = None
    data_sha256: str | None = None
    """Hash of the ``--data-file`` bytes: a changed data file is another run."""
    n: int | None = None
    first: bool = False
    seed: int = 0
    skip_invalid: bool = False
    min_annotators: int = 2
    methods: tuple[str, ...] = DEFAULT_METHODS
    model: ModelSpec = field(default_factory=ModelSpec)
    backend: str = "transformers"
    base_url: str | None = None
    endpoint: str = "completions"
    api_key_env: str = "OPENAI_API_KEY"
    top_logprobs: int = 20
    extra_body: dict[str, Any] | None = None
    """--backend openai: server-specific request fields sent with every request (a result key)."""
    score_missing: str = "none"
    """--backend openai: how labels missing from the top log-probs are scored (none, wide, echo)."""
    prompt_format: str = "plain"
    max_length: int | None = None
    attribution: AttributionConfig = field(default_factory=AttributionConfig)
    mask: str = "delete"
    placeholder: str = "_"
    max_new_tokens: int = 64
    random_draws: int = 100
    ig_steps: int = DEFAULT_IG_STEPS
    """Interpolation steps of ``integrated_gradients`` (a result key)."""
    aopc: bool = True
    """Score ERASER's AOPC bins (1/5/10/20/50 %) of scored methods in the masking stage; they
    are most of its prompts (up to 10 of every scored rationale's 12 inputs). ``--no-aopc``
    skips them: flip rate, comprehensiveness and sufficiency are unchanged and Table 4 shows
    no AOPC columns. A result key, so runs with and without are never mixed."""
    output_dir: str = "runs/latest"
    batch_size: int = 16
    max_batch_tokens: int = DEFAULT_MAX_BATCH_TOKENS
    concurrency: int = 4
    timeout: float = 60.0
    max_retries: int = 4
    progress: bool = True

    def __post_init__(self) -> None:
        if self.mask not in MASK_STRATEGIES:
            raise ConfigError(f"unknown --mask {self.mask!r}; choose one of {', '.join(MASK_STRATEGIES)}")
        if self.backend not in BACKENDS:
            raise ConfigError(f"unknown --backend {self.backend!r}; choose one of {', '.join(BACKENDS)}")
        if self.backend == "openai" and not self.base_url:
            raise ConfigError("--backend openai needs --base-url (e.g. http://127.0.0.1:8080/v1)")
        if self.score_missing != "none" and self.backend != "openai":
            raise ConfigError("--score-missing is for a server's log-probabilities: it needs --backend openai")
        if self.extra_body and self.backend != "openai":
            raise ConfigError("--extra-body is sent to a server: it needs --backend openai")
        if self.n is not None and self.n < 1:
            raise ConfigError("-n must be a positive number of examples")
        for name in ("batch_size", "max_batch_tokens", "max_new_tokens", "concurrency", "max_retries"):
            if getattr(self, name) < (0 if name == "max_retries" else 1):
                raise ConfigError(f"--{name.replace('_', '-')} must be positive")
        if self.ig_steps < 1:
            raise ConfigError("--ig-steps must be at least 1")
        if self.random_draws < 1:
            raise ConfigError("--random-draws must be at least 1")
        if not self.methods:
            raise ConfigError("--methods needs at least one method")
        self.methods = tuple(self.methods)
        self.task_dir = tuple(self.task_dir)
        if self.data_file:
            if self.dataset == "demo":  # the default: --data-file alone selects your file
                self.dataset = "file"
            elif self.dataset != "file":
                raise ConfigError(f"--data-file reads your own file; it cannot be combined with --dataset {self.dataset}")
        elif self.dataset == "file":
            raise ConfigError("--dataset file needs --data-file FILE (.jsonl, .csv or .parquet)")
        if self.dataset in USER_TASK_DATASETS and not self.task:
            what = "--data-file" if self.dataset == "file" else "--dataset eraser"
            raise ConfigError(f"{what} needs --task NAME or --task FILE.toml (labels, verbalizers, prompts; docs/own-data.md)")
        if self.split is not None and self.dataset != "eraser":
            raise ConfigError("--split chooses the file of an ERASER directory; it needs --dataset eraser")

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["methods"] = list(self.methods)
        return d

    def result_dict(self) -> dict[str, Any]:
        """The keys that determine results (hashed and compared on resume)."""
        return {k: v for k, v in self.as_dict().items()
                if k not in NON_RESULT_KEYS and not (k in OPTIONAL_RESULT_KEYS and v is None)}

    def config_hash(self) -> str:
        """Hash of the result keys with credentials stripped (a hash of a short secret can be guessed)."""
        from ..models.redact import redact_value

        blob = json.dumps(redact_value(self.result_dict()), sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "RunConfig":
        d = dict(d)
        d["model"] = ModelSpec(**d.get("model", {}))
        d["attribution"] = AttributionConfig(**d.get("attribution", {}))
        d["methods"] = tuple(d.get("methods", DEFAULT_METHODS))
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


#: Result keys added after runs were stored without them, with the value those runs used, so
#: that a run started before a key existed resumes under the same numbers (and is refused with
#: another value) instead of being refused for a key it never had.
LATER_RESULT_KEYS: dict[str, Any] = {"aopc": True}


def with_later_keys(stored: dict[str, Any]) -> dict[str, Any]:
    """A stored run's result dict with :data:`LATER_RESULT_KEYS` filled in where it lacks them."""
    return {**LATER_RESULT_KEYS, **stored}


def config_diff(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Human-readable differences between two result dicts (flattened one level)."""
    out = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a != b:
            out.append(f"{key}: stored {json.dumps(a, default=str)} != requested {json.dumps(b, default=str)}")
    return out
