"""Counterfactual results in the run directory's SQLite file (``results.sqlite``), new tables
beside those of :mod:`faithscope.runs.store` (same file style: WAL journal, one transaction
per batch of examples, so a kill loses at most the batch in flight and a rerun skips every
stored example). JSON and plain columns only; nothing is pickled.

Tables: ``cf_meta`` (config, model identity, ``cf_schema_version``, ``finished`` once every example of the sample is stored), ``cf_examples`` (one row
per finished example: original prediction and distribution, its interventions count) and
``cf_interventions`` (one row per intervention: inserted word and place, edited prediction
and distribution, TVD (NULL when a distribution is unknown: a server reply naming no label), explanation, raw reply, parse failure, mention).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..errors import ConfigError
from ..metrics.counterfactual import InterventionOutcome
from ..runs.store import connect_readonly, finished_marker_status

STORE_NAME = "results.sqlite"
CF_SCHEMA_VERSION = 1

SCHEMA = """
CREATE TABLE IF NOT EXISTS cf_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cf_examples (
  example_id TEXT PRIMARY KEY, idx INTEGER NOT NULL, label TEXT NOT NULL, orig_predicted TEXT NOT NULL,
  orig_probs TEXT NOT NULL, orig_explanation TEXT, n_interventions INTEGER NOT NULL, field TEXT);
CREATE TABLE IF NOT EXISTS cf_interventions (
  example_id TEXT NOT NULL, ikey TEXT NOT NULL, field TEXT NOT NULL, word_index INTEGER NOT NULL,
  word TEXT NOT NULL, kind TEXT NOT NULL, predicted TEXT NOT NULL, probs TEXT NOT NULL, tvd REAL,
  changed INTEGER NOT NULL, explanation TEXT NOT NULL, raw_reply TEXT NOT NULL, failure TEXT,
  mention INTEGER NOT NULL, n_words INTEGER NOT NULL, PRIMARY KEY (example_id, ikey));
"""


@dataclass(frozen=True)
class InterventionRow:
    example_id: str
    ikey: str
    field: str
    word_index: int
    word: str
    kind: str
    predicted: str
    probs: tuple[float, ...]
    tvd: float
    changed: bool
    explanation: str
    raw_reply: str
    failure: str | None
    mention: bool
    n_words: int


@dataclass(frozen=True)
class ExampleRow:
    example_id: str
    idx: int
    label: str
    orig_predicted: str
    orig_probs: tuple[float, ...]
    orig_explanation: str | None
    n_interventions: int
    field: str | None


def counterfactual_status(run_dir: Path | str) -> str:
    """``done`` (every example of the run's sample stored: ``finished`` in ``cf_meta``),
    ``partial`` (a store, not finished) or ``new`` (no store); read-only."""
    return finished_marker_status(run_dir, "cf_meta")


def is_counterfactual_run(run_dir: Path | str) -> bool:
    """Whether ``run_dir`` holds a counterfactual run (a stored ``cf_meta`` config); read-only,
    so asking never creates or changes a store."""
    path = Path(run_dir) / STORE_NAME
    if not path.is_file():
        return False
    try:
        db = connect_readonly(path)
    except sqlite3.Error:
        return False
    try:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='cf_meta'").fetchone():
            return False
        return db.execute("SELECT 1 FROM cf_meta WHERE key='config'").fetchone() is not None
    except sqlite3.DatabaseError:  # not a database / damaged: the run store's own open says so in one line
        return False
    finally:
        db.close()


class CounterfactualStore:
    """Read/write access to one counterfactual run's tables (``readonly``: reports, which must
    not change a run directory)."""

    def __init__(self, run_dir: Path | str, readonly: bool = False):
        self.path = Path(run_dir) / STORE_NAME
        if readonly:
            if not is_counterfactual_run(run_dir):
                raise ConfigError(f"{run_dir}: no counterfactual results here")
            self.db = connect_readonly(self.path)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    # -- config -------------------------------------------------------------------------------
    def check_or_set_config(self, config: Mapping[str, Any], identity: Mapping[str, Any]) -> None:
        """Store the config on first use; refuse a directory holding another config or version."""
        rows = dict(self.db.execute("SELECT key, value FROM cf_meta"))
        want = json.dumps(dict(config), sort_keys=True)
        if rows:
            version = int(rows.get("cf_schema_version", "0"))
            if version != CF_SCHEMA_VERSION:
                raise ConfigError(f"{self.path}: counterfactual results of schema version {version}, this faithscope "
                                  f"writes version {CF_SCHEMA_VERSION}; use a new --output-dir")
            if rows.get("config") != want:
                old = json.loads(rows.get("config", "{}"))
                diff = sorted(k for k in set(old) | set(config) if old.get(k) != config.get(k))
                raise ConfigError(f"{self.path.parent} holds a counterfactual run with another configuration "
                                  f"(differs in: {', '.join(diff)}); use another --output-dir")
            return
        with self.db:
            self.db.executemany("INSERT INTO cf_meta VALUES (?, ?)", [
                ("cf_schema_version", str(CF_SCHEMA_VERSION)), ("config", want),
                ("model", json.dumps(dict(identity), sort_keys=True, default=str))])

    def mark_finished(self) -> None:
        """Record that every example of the configured sample is stored (sweeps skip the cell)."""
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO cf_meta VALUES ('finished', '1')")

    def meta(self) -> dict[str, Any]:
        rows = dict(self.db.execute("SELECT key, value FROM cf_meta"))
        return {"config": json.loads(rows.get("config", "{}")), "model": json.loads(rows.get("model", "{}"))}

    # -- results ------------------------------------------------------------------------------
    def done_ids(self) -> set[str]:
        return {r[0] for r in self.db.execute("SELECT example_id FROM cf_examples")}

    def write_batch(self, examples: Iterable[ExampleRow], interventions: Iterable[InterventionRow]) -> None:
        """One transaction: a batch is stored whole or not at all."""
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO cf_interventions VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", [
                (r.example_id, r.ikey, r.field, r.word_index, r.word, r.kind, r.predicted, json.dumps(list(r.probs)),
                 r.tvd, int(r.changed), r.explanation, r.raw_reply, r.failure, int(r.mention), r.n_words)
                for r in interventions])
            self.db.executemany("INSERT OR REPLACE INTO cf_examples VALUES (?,?,?,?,?,?,?,?)", [
                (e.example_id, e.idx, e.label, e.orig_predicted, json.dumps(list(e.orig_probs)), e.orig_explanation,
                 e.n_interventions, e.field) for e in examples])

    def n_examples(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM cf_examples").fetchone()[0])

    def outcomes(self) -> list[InterventionOutcome]:
        rows = self.db.execute("SELECT i.example_id, tvd, changed, mention, n_words FROM cf_interventions i "
                               "JOIN cf_examples e USING (example_id) ORDER BY e.idx, i.rowid")
        return [InterventionOutcome(r[0], float("nan") if r[1] is None else float(r[1]), bool(r[2]), bool(r[3]), int(r[4]))
                for r in rows]

    def interventions(self) -> list[dict[str, Any]]:
        cur = self.db.execute("SELECT * FROM cf_interventions ORDER BY rowid")
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r)) for r in cur]

    def explanations(self) -> list[str]:
        """Every intervention's parsed explanation, in stored order."""
        return [r[0] for r in self.db.execute("SELECT explanation FROM cf_interventions ORDER BY rowid")]

    def parse_stats(self) -> dict[str, float]:
        n, failed, empty = self.db.execute(
            "SELECT COUNT(*), SUM(failure IS NOT NULL), SUM(explanation = '') FROM cf_interventions").fetchone()
        n = int(n or 0)
        return {"n_interventions": n,
                "parse_failure_rate": (int(failed or 0) / n) if n else float("nan"),
                "empty_explanation_rate": (int(empty or 0) / n) if n else float("nan")}
