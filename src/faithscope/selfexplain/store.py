"""The self-explanation study's results: one SQLite file per output directory.

The file is the directory's ``results.sqlite`` (so ``faithscope report DIR`` finds it) with
tables of its own, prefixed ``se_`` (same style as :mod:`faithscope.runs.store` and
:mod:`faithscope.counterfactual.store`: WAL journal, one transaction per stored unit, so a
kill loses at most the unit in flight and a rerun computes only what is missing; JSON and
plain columns only, nothing pickled; a store of another schema version or another config is
refused in one line; reports open it read-only through a ``mode=ro`` URI).

Tables:

``se_meta``
    ``se_schema_version``, ``config`` (:meth:`StudyConfig.result_dict`), ``model`` (the base
    model's identity), ``created``;
``se_checks``
    one :class:`~faithscope.selfexplain.types.CheckRow` per (condition, task, style, mode,
    example_id), with ``idx`` the example's place in the evaluation split;
``se_predictions``
    the forced-choice prediction of each evaluation example under each condition (label
    log-probabilities), written before its checks so that a resumed chunk is not re-scored;
``se_pseudo_items`` / ``se_pseudo_drops`` / ``se_pseudo_chosen`` / ``se_pseudo_done``
    the pseudo-faithful one-word explanations built per task with the base model (items are
    the training pairs; drops are counted by reason; ``se_pseudo_done`` marks a finished task,
    written in the same transaction as its items);
``se_training``
    one row per trained condition: the last epoch's adapter directory and the mix's counts;
``se_word_faith``
    the second view per checked row (flip and probability drop deleting the explained words
    vs as many random words), a JSON record each;
``se_timings``
    seconds, items and peak resident memory per (condition, stage); seconds and items add up
    over resumed runs, the peak is the highest seen.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from ..errors import ConfigError, StoreError
from ..types import LabelScores
from ..runs.store import connect_readonly, finished_marker_status
from .types import CheckRow, TrainItem

STORE_NAME = "results.sqlite"
SE_SCHEMA_VERSION = 2
"""2: se_predictions hold labels + unknown on the unedited input (1: the forced choice only)."""
"""Version of the ``se_`` tables; a store of another version is refused, never mixed."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS se_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS se_checks (
  condition TEXT NOT NULL, task TEXT NOT NULL, style TEXT NOT NULL, mode TEXT NOT NULL, example_id TEXT NOT NULL,
  idx INTEGER NOT NULL, gold TEXT NOT NULL, predicted TEXT NOT NULL, target TEXT, reply TEXT NOT NULL,
  explanation TEXT NOT NULL, failure TEXT, recheck TEXT, faithful INTEGER, correct INTEGER NOT NULL,
  n_changed INTEGER NOT NULL, recheck_probs TEXT NOT NULL,
  PRIMARY KEY (condition, task, style, mode, example_id));
CREATE TABLE IF NOT EXISTS se_predictions (
  condition TEXT NOT NULL, task TEXT NOT NULL, example_id TEXT NOT NULL, labels TEXT NOT NULL, logprobs TEXT NOT NULL,
  predicted TEXT NOT NULL, PRIMARY KEY (condition, task, example_id));
CREATE TABLE IF NOT EXISTS se_pseudo_items (
  task TEXT NOT NULL, example_id TEXT NOT NULL, kind TEXT NOT NULL, item_task TEXT NOT NULL, prompt TEXT NOT NULL,
  target TEXT NOT NULL, PRIMARY KEY (task, example_id, kind));
CREATE TABLE IF NOT EXISTS se_pseudo_drops (task TEXT NOT NULL, reason TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (task, reason));
CREATE TABLE IF NOT EXISTS se_pseudo_chosen (task TEXT NOT NULL, example_id TEXT NOT NULL, info TEXT NOT NULL, PRIMARY KEY (task, example_id));
CREATE TABLE IF NOT EXISTS se_pseudo_done (task TEXT PRIMARY KEY, n_examples INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS se_training (
  condition TEXT PRIMARY KEY, adapter TEXT NOT NULL, epochs INTEGER NOT NULL, n_items INTEGER NOT NULL, mix TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS se_word_faith (
  condition TEXT NOT NULL, task TEXT NOT NULL, style TEXT NOT NULL, mode TEXT NOT NULL, example_id TEXT NOT NULL,
  record TEXT NOT NULL, PRIMARY KEY (condition, task, style, mode, example_id));
CREATE TABLE IF NOT EXISTS se_timings (
  condition TEXT NOT NULL, stage TEXT NOT NULL, seconds REAL NOT NULL, items INTEGER NOT NULL, peak_rss_mib REAL,
  PRIMARY KEY (condition, stage));
"""

_CHECK_COLUMNS = ("condition", "task", "style", "mode", "example_id", "idx", "gold", "predicted", "target", "reply",
                  "explanation", "failure", "recheck", "faithful", "correct", "n_changed", "recheck_probs")


def is_study_dir(run_dir: Path | str) -> bool:
    """Whether ``run_dir`` holds a self-explanation study (its ``results.sqlite`` has ``se_meta``)."""
    path = Path(run_dir) / STORE_NAME
    if not path.is_file():
        return False
    try:
        db = connect_readonly(path)
        try:
            return db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='se_meta'").fetchone() is not None
        finally:
            db.close()
    except sqlite3.DatabaseError:
        return False


def _json_default(value: Any) -> Any:
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    return str(value)


def study_status(run_dir: Path | str) -> str:
    """``done`` (the study ran to its end: ``finished`` in ``se_meta``), ``partial`` (a store,
    not finished) or ``new`` (no store); read-only, so asking creates nothing."""
    return finished_marker_status(run_dir, "se_meta")


class StudyStore:
    """Read/write access to one study's ``se_`` tables (``readonly=True`` for reports)."""

    def __init__(self, out_dir: Path | str, readonly: bool = False):
        self.path = Path(out_dir) / STORE_NAME
        self.readonly = readonly
        if readonly and not self.path.is_file():
            raise StoreError(f"{out_dir}: no {STORE_NAME} here; is this a faithscope selfexplain directory?")
        try:
            if readonly:
                self.db = connect_readonly(self.path)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.db = sqlite3.connect(self.path, timeout=30)
                self.db.execute("PRAGMA journal_mode=WAL")
                self.db.execute("PRAGMA synchronous=NORMAL")
                self.db.executescript(SCHEMA)
            self._check_version()
        except sqlite3.DatabaseError as e:
            raise StoreError(f"{self.path}: not a readable result store ({e}); move it aside and rerun") from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "StudyStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- meta / config ------------------------------------------------------------------------
    def _meta(self) -> dict[str, str]:
        if not self.db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='se_meta'").fetchone():
            return {}
        return dict(self.db.execute("SELECT key, value FROM se_meta"))

    def _check_version(self) -> None:
        rows = self._meta()
        if "se_schema_version" in rows and int(rows["se_schema_version"]) != SE_SCHEMA_VERSION:
            raise StoreError(f"{self.path.parent}: a selfexplain study stored with schema version {rows['se_schema_version']}, "
                             f"this faithscope writes version {SE_SCHEMA_VERSION}; use a new --output-dir (results are not mixed)")

    def bind_config(self, config: Mapping[str, Any], identity: Mapping[str, Any]) -> None:
        """Store the config on first use; refuse a directory holding another study."""
        rows = self._meta()
        want = json.dumps(dict(config), sort_keys=True, default=_json_default)
        if "config" in rows:
            if rows["config"] != want:
                old, new = json.loads(rows["config"]), json.loads(want)
                diff = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
                raise ConfigError(f"{self.path.parent} holds a selfexplain study with another configuration "
                                  f"(differs in: {', '.join(diff)}); use another --output-dir or the same options")
            return
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO se_meta VALUES (?, ?)", [
                ("se_schema_version", str(SE_SCHEMA_VERSION)), ("config", want),
                ("model", json.dumps(dict(identity), sort_keys=True, default=_json_default)),
                ("created", json.dumps(time.time()))])

    def set_model_identity(self, identity: Mapping[str, Any]) -> None:
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO se_meta VALUES ('model', ?)",
                            (json.dumps(dict(identity), sort_keys=True, default=_json_default),))

    def mark_finished(self) -> None:
        """Record that every condition of the bound study is trained and evaluated (a sweep's ``done``)."""
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO se_meta VALUES ('finished', ?)", (json.dumps(time.time()),))

    def meta(self) -> dict[str, Any]:
        rows = self._meta()
        return {"config": json.loads(rows.get("config", "{}")), "model": json.loads(rows.get("model", "{}")),
                "schema": int(rows.get("se_schema_version", "0") or 0)}

    # -- checks ---------------------------------------------------------------------------------
    def done_keys(self, condition: str, task: str) -> set[tuple[str, str, str]]:
        """(style, mode, example_id) of every stored check of ``condition`` on ``task``."""
        return set(self.db.execute("SELECT style, mode, example_id FROM se_checks WHERE condition=? AND task=?",
                                   (condition, task)).fetchall())

    def put_checks(self, condition: str, rows: Sequence[CheckRow], idx: Mapping[str, int], *,
                   task: str, word_faith: Sequence[Mapping[str, Any]] | None = None) -> None:
        """One transaction: the rows of one chunk (and their second-view records) or nothing.
        ``task`` is the study's task name (rows carry the task file's name)."""
        with self.db:
            self.db.executemany(f"INSERT OR REPLACE INTO se_checks VALUES ({','.join('?' * len(_CHECK_COLUMNS))})", [
                (condition, task, r.style, r.mode, r.example_id, idx[r.example_id], r.gold, r.predicted, r.target, r.reply,
                 r.explanation, r.failure, r.recheck, None if r.faithful is None else int(r.faithful), int(r.correct),
                 int(r.n_changed), json.dumps(list(r.recheck_probs))) for r in rows])
            if word_faith:
                self.db.executemany("INSERT OR REPLACE INTO se_word_faith VALUES (?,?,?,?,?,?)", [
                    (condition, task, r.style, r.mode, r.example_id, json.dumps(dict(w), default=_json_default, sort_keys=True))
                    for r, w in zip(rows, word_faith)])

    def checks(self, condition: str | None = None) -> list[tuple[str, str, CheckRow]]:
        """(condition, study task, row) of the stored checks, in a stable order."""
        sql = f"SELECT {', '.join(_CHECK_COLUMNS)} FROM se_checks"
        args: tuple[Any, ...] = ()
        if condition is not None:
            sql, args = sql + " WHERE condition=?", (condition,)
        out = []
        for r in self.db.execute(sql + " ORDER BY condition, task, style, mode, idx", args):
            d = dict(zip(_CHECK_COLUMNS, r))
            row = CheckRow(example_id=d["example_id"], task=d["task"], style=d["style"], mode=d["mode"], gold=d["gold"],
                           predicted=d["predicted"], target=d["target"], reply=d["reply"], explanation=d["explanation"],
                           failure=d["failure"], recheck=d["recheck"],
                           faithful=None if d["faithful"] is None else bool(d["faithful"]), correct=bool(d["correct"]),
                           n_changed=int(d["n_changed"]), recheck_probs=tuple(json.loads(d["recheck_probs"])))
            out.append((d["condition"], d["task"], row))
        return out

    def conditions(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT DISTINCT condition FROM se_checks ORDER BY condition")]

    # -- predictions ------------------------------------------------------------------------
    def predictions(self, condition: str, task: str) -> dict[str, LabelScores]:
        return {eid: LabelScores(tuple(json.loads(labels)), tuple(json.loads(lps)))
                for eid, labels, lps in self.db.execute(
                    "SELECT example_id, labels, logprobs FROM se_predictions WHERE condition=? AND task=?", (condition, task))}

    def put_predictions(self, condition: str, task: str, scores: Mapping[str, LabelScores]) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO se_predictions VALUES (?,?,?,?,?,?)", [
                (condition, task, eid, json.dumps(list(s.labels)), json.dumps(list(s.logprobs)), s.predicted)
                for eid, s in scores.items()])

    # -- pseudo explanations ------------------------------------------------------------------
    def pseudo_done(self) -> dict[str, int]:
        return dict(self.db.execute("SELECT task, n_examples FROM se_pseudo_done"))

    def put_pseudo(self, task: str, n_examples: int, items: Iterable[TrainItem], drops: Mapping[str, int],
                   chosen: Mapping[str, Mapping[str, Any]]) -> None:
        """A task's pseudo explanations in one transaction, marked done with it."""
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO se_pseudo_items VALUES (?,?,?,?,?,?)", [
                (task, i.example_id, i.kind, i.task, i.prompt, i.target) for i in items])
            self.db.executemany("INSERT OR REPLACE INTO se_pseudo_drops VALUES (?,?,?)",
                                [(task, str(reason), int(n)) for reason, n in drops.items()])
            self.db.executemany("INSERT OR REPLACE INTO se_pseudo_chosen VALUES (?,?,?)", [
                (task, str(eid), json.dumps(dict(info), default=_json_default, sort_keys=True)) for eid, info in chosen.items()])
            self.db.execute("INSERT OR REPLACE INTO se_pseudo_done VALUES (?, ?)", (task, int(n_examples)))

    def pseudo_items(self, task: str) -> list[TrainItem]:
        return [TrainItem(example_id=r[0], task=r[1], kind=r[2], prompt=r[3], target=r[4]) for r in self.db.execute(
            "SELECT example_id, item_task, kind, prompt, target FROM se_pseudo_items WHERE task=? ORDER BY rowid", (task,))]

    def pseudo_drops(self, task: str) -> Counter[str]:
        return Counter(dict(self.db.execute("SELECT reason, n FROM se_pseudo_drops WHERE task=?", (task,))))

    def pseudo_chosen(self, task: str) -> dict[str, dict[str, Any]]:
        return {eid: json.loads(info) for eid, info in self.db.execute(
            "SELECT example_id, info FROM se_pseudo_chosen WHERE task=?", (task,))}

    # -- training -------------------------------------------------------------------------------
    def trained(self) -> dict[str, dict[str, Any]]:
        return {c: {"adapter": a, "epochs": e, "n_items": n, "mix": json.loads(m)}
                for c, a, e, n, m in self.db.execute("SELECT condition, adapter, epochs, n_items, mix FROM se_training")}

    def put_trained(self, condition: str, adapter: str, epochs: int, n_items: int, mix: Mapping[str, int]) -> None:
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO se_training VALUES (?,?,?,?,?)",
                            (condition, adapter, int(epochs), int(n_items), json.dumps(dict(mix), sort_keys=True)))

    # -- second view ----------------------------------------------------------------------------
    def word_faith(self) -> list[dict[str, Any]]:
        return [{"condition": c, "task": t, "style": s, "mode": m, "example_id": e} | json.loads(rec)
                for c, t, s, m, e, rec in self.db.execute(
                    "SELECT condition, task, style, mode, example_id, record FROM se_word_faith ORDER BY rowid")]

    # -- timings --------------------------------------------------------------------------------
    def add_timing(self, condition: str, stage: str, seconds: float, items: int, peak_rss_mib: float | None) -> None:
        with self.db:
            row = self.db.execute("SELECT seconds, items, peak_rss_mib FROM se_timings WHERE condition=? AND stage=?",
                                  (condition, stage)).fetchone()
            if row is not None:
                seconds, items = seconds + row[0], items + row[1]
                if row[2] is not None:
                    peak_rss_mib = row[2] if peak_rss_mib is None else max(peak_rss_mib, row[2])
            self.db.execute("INSERT OR REPLACE INTO se_timings VALUES (?,?,?,?,?)", (condition, stage, seconds, items, peak_rss_mib))

    def timings(self) -> list[dict[str, Any]]:
        return [{"condition": c, "stage": s, "seconds": sec, "items": n, "peak_rss_mib": p} for c, s, sec, n, p in
                self.db.execute("SELECT condition, stage, seconds, items, peak_rss_mib FROM se_timings ORDER BY rowid")]


def check_row_dict(row: CheckRow) -> dict[str, Any]:
    """A check row as a plain dict (CSV/JSON)."""
    return asdict(row)
