"""Everything a report needs from one run directory, read once from its result store.

Reports never re-run a model: they read ``results.sqlite`` (see :mod:`faithscope.runs.store`)
into a :class:`RunData` and compute every table, plot and HTML page from it. Loading once and
closing the store keeps a report cheap and lets a test build a ``RunData`` from a tiny store.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..runs.store import ResultStore
from ..types import LabelScores, Rationale

#: Meta keys written by the runner (``bind_config``, ``Runner.__init__``, ``Runner.run``).
META_KEYS = ("config", "config_hash", "model_identity", "versions", "versions_resumed", "created", "finished",
             "task", "labels", "sample_note", "skipped_invalid", "skipped_reasons", "peak_rss_mib")

PROMPTING = ("prompt-unbound", "prompt-topk")


@dataclass
class RunData:
    """The stored results of one run, as plain Python objects.

    ``rationales`` maps ``(method, purpose)`` to ``{example_id: Rationale}``; ``masked`` holds
    the store's masked rows (dicts with ``example_id``, ``method``, ``strategy``, ``flipped``,
    log-probs and probabilities of the originally predicted label, ``n_outside``);
    ``perturbed`` the sufficiency (``kept``) and AOPC-bin rows of the same rationales;
    ``hidden`` the word positions truncation cut, per truncated example.
    """

    run_dir: Path
    meta: dict[str, Any]
    examples: list[dict[str, Any]]
    predictions: dict[str, LabelScores]
    rationales: dict[tuple[str, str], dict[str, Rationale]]
    masked: list[dict[str, Any]]
    timings: dict[str, tuple[float, int]]
    epochs: dict[int, dict[str, Any]] = field(default_factory=dict)
    stage_peaks: dict[str, float] = field(default_factory=dict)
    perturbed: list[dict[str, Any]] = field(default_factory=list)
    hidden: dict[str, list[int]] = field(default_factory=dict)
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per method, the settings its rationales were extracted with (attribution target,
    reduction, ...), as the runner stored them; the explorer's legend states them."""

    @property
    def config(self) -> dict[str, Any]:
        return self.meta.get("config") or {}

    @property
    def identity(self) -> dict[str, Any]:
        return self.meta.get("model_identity") or {}

    @property
    def dataset(self) -> str:
        return str(self.config.get("dataset") or self.meta.get("task") or "?")

    @property
    def labels(self) -> list[str]:
        """The task's labels in task order (from meta), else those seen in the results."""
        stored = self.meta.get("labels")
        if stored:
            return list(stored)
        seen: list[str] = []
        for s in self.predictions.values():
            seen.extend(lab for lab in s.labels if lab not in seen)
        seen.extend(e["label"] for e in self.examples if e["label"] not in seen)
        return seen

    @property
    def mask_strategy(self) -> str:
        """The run's masking strategy; the first stored one if the config does not say."""
        strategy = self.config.get("mask")
        if strategy:
            return str(strategy)
        stored = sorted({r["strategy"] for r in self.masked})
        return stored[0] if stored else "delete"

    def methods(self, purpose: str) -> list[str]:
        """Methods with stored rationales for ``purpose``, in the run's configured order."""
        have = {m for m, p in self.rationales if p == purpose}
        order = [m for m in self.config.get("methods", []) if m in have]
        return order + sorted(have - set(order))

    def masked_rows(self, strategy: str | None = None) -> list[dict[str, Any]]:
        strategy = strategy or self.mask_strategy
        return [r for r in self.masked if r["strategy"] == strategy]

    def perturbed_rows(self, strategy: str | None = None) -> list[dict[str, Any]]:
        strategy = strategy or self.mask_strategy
        return [r for r in self.perturbed if r["strategy"] == strategy]

    def visible_human(self) -> dict[str, list[int]]:
        """Each example's human rationale minus the words outside its visible window."""
        return {e["id"]: [g for g in e["human"] if g not in set(self.hidden.get(e["id"], ()))] for e in self.examples}

    def human_outside(self) -> dict[str, int]:
        """Per truncated example, its human-rationale words outside the visible window."""
        out = {}
        for e in self.examples:
            cut = set(self.hidden.get(e["id"], ()))
            if cut:
                out[e["id"]] = sum(1 for g in e["human"] if g in cut)
        return out

    @property
    def adapter(self) -> str | None:
        """The PEFT adapter the model ran with (``None`` = pre-trained weights)."""
        model_cfg = self.config.get("model") or {}
        return self.identity.get("adapter") or model_cfg.get("adapter") or None

    @property
    def model_name(self) -> str:
        return str(self.identity.get("model") or (self.config.get("model") or {}).get("name") or "unknown model")

    @property
    def state(self) -> str:
        """``pre-trained`` or ``fine-tuned (<adapter directory name>)``."""
        if self.adapter:
            return f"fine-tuned ({Path(self.adapter).name})"
        return "pre-trained"

    @property
    def label(self) -> str:
        """A one-line identity of the run for column groups: model, weights state, dataset."""
        return f"{self.model_name} · {self.state} · {self.dataset}"


def load_run(run_dir: Path | str) -> RunData:
    """Read a run directory's store completely (raises ``ConfigError`` if there is none)."""
    store = ResultStore.open_existing(run_dir)
    try:
        return read_store(store, Path(run_dir))
    finally:
        store.close()


def read_store(store: ResultStore, run_dir: Path | None = None) -> RunData:
    """Read an open store into a :class:`RunData` (the store stays open)."""
    meta = {k: v for k in META_KEYS if (v := store.get_meta(k)) is not None}
    rationales: dict[tuple[str, str], dict[str, Rationale]] = {}
    for eid, purpose, rat in store.rationales():
        rationales.setdefault((rat.method, purpose), {})[eid] = rat
    return RunData(
        run_dir=Path(run_dir) if run_dir is not None else store.path.parent,
        meta=meta,
        examples=store.examples(),
        predictions=store.predictions(),
        rationales=rationales,
        masked=store.masked(),
        timings=store.timings(),
        epochs=store.epochs(),
        stage_peaks=store.stage_peaks(),
        perturbed=store.perturbed(),
        hidden=store.hidden(),
        settings=method_settings(store),
    )


def method_settings(store: ResultStore) -> dict[str, dict[str, Any]]:
    """The stored extraction settings of each method (the first distinct row per method).

    The runner writes one settings object per batch; a run's config is fixed, so every row of
    a method holds the same one. Read with one query instead of a store method, as a read-only
    helper of the reports.
    """
    out: dict[str, dict[str, Any]] = {}
    for method, text in store.db.execute("SELECT method, settings FROM rationales GROUP BY method, settings ORDER BY method"):
        try:
            value = json.loads(text)
        except ValueError:
            continue
        if isinstance(value, dict):
            out.setdefault(method, value)
    return out


def load_report_runs(run_dir: Path | str) -> list[RunData]:
    """The runs one directory contributes to a report's columns.

    A plain run directory is one run. A ``faithscope finetune`` output directory keeps only
    epoch summaries in its own store and one full evaluation run per epoch in ``epoch_E/``: it
    stands for its pre-trained run (epoch 0) and its last evaluated epoch, so Tables 2 and 4
    show both with the fine-tuned minus pre-trained differences; the epoch summaries (for the
    per-epoch tables and figures) travel with the last epoch's run.
    """
    data = load_run(run_dir)
    if data.predictions or not data.epochs:
        return [data]
    epoch_runs = {int(p.name.split("_", 1)[1]): p for p in Path(run_dir).glob("epoch_*")
                  if p.name.split("_", 1)[1].isdigit() and (p / "results.sqlite").is_file()}
    if not epoch_runs:
        return [data]
    first, last = min(epoch_runs), max(epoch_runs)
    runs = [load_run(epoch_runs[e]) for e in sorted({first, last})]
    runs[-1].epochs = data.epochs
    return runs

