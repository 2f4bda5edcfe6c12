"""The result store: one SQLite file per run directory (``results.sqlite``).

One row per example x method x purpose (rationales) and per example x method x masking
strategy (faithfulness), with the resolved config, model identity and package versions in
``meta``. Every batch is committed in one transaction (WAL journal), so a Ctrl-C or a
``kill -9`` loses at most the batch in flight, and a rerun skips everything already stored.
Label scores of masked prompts are cached by prompt hash: an identical masked input is never
scored twice. Everything is JSON or plain columns; nothing is pickled.

Faithfulness inputs (see :mod:`faithscope.runs.perturb`): ``masked`` holds the rationale-removed
input of each (example, method, strategy) with ``n_outside``, the rationale words outside the
visible window (excluded); ``perturbed`` the same rationale's other inputs (``kept`` for
sufficiency, ``aopc_removed``/``aopc_kept`` per bin), written in the same transaction, so a
``masked`` row means the rationale is complete. ``hidden`` lists, per truncated example, the
word positions cut by truncation (written with its prediction).

Schema versions: 2 added ``masked.n_outside``, ``perturbed`` and ``hidden``; 3 made the
log-probability/probability columns of ``masked`` and ``perturbed`` NULL where a side has no
distribution (a server that named the label only in text, or named none), with ``predicted`` /
``orig_predicted`` ``""`` when that reply named no label. The stored config has its credentials
stripped (:mod:`faithscope.models.redact`). A store of another version is refused
(``check_schema``) rather than mixed.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

from ..errors import ConfigError, StoreError
from ..models.redact import redact_value
from ..types import Example, LabelScores, Rationale
from .config import RunConfig, config_diff, with_later_keys

STORE_NAME = "results.sqlite"
SCHEMA_VERSION = 4
"""See the module doc; 3 also gave ``rationales`` ``parse_error`` (why a reply failed to parse) and
``skipped`` (TOP-VAR, k = 0), stores the ALL-words baseline as method ``all-words`` (was ``all``) and
keeps ``skipped_invalid``/``skipped_reasons`` in meta. 4: prompting replies end at the task's
``rationale_stop`` (raw replies and rationales are cut there; ``reply_mapping`` records ``stop``)."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS examples (
  example_id TEXT PRIMARY KEY, idx INTEGER NOT NULL, label TEXT NOT NULL, n_words INTEGER NOT NULL,
  human TEXT NOT NULL, fields TEXT NOT NULL, source TEXT);
CREATE TABLE IF NOT EXISTS predictions (
  example_id TEXT PRIMARY KEY, labels TEXT NOT NULL, logprobs TEXT NOT NULL, predicted TEXT NOT NULL,
  tokens TEXT NOT NULL, truncated_words INTEGER NOT NULL, source TEXT NOT NULL, detail TEXT);
CREATE TABLE IF NOT EXISTS rationales (
  example_id TEXT NOT NULL, method TEXT NOT NULL, purpose TEXT NOT NULL, target_label TEXT NOT NULL,
  k INTEGER, positions TEXT NOT NULL, scores TEXT, raw_reply TEXT, parsed INTEGER NOT NULL,
  not_found TEXT NOT NULL, n_reply_words INTEGER NOT NULL, draws TEXT, settings TEXT NOT NULL,
  parse_error TEXT, skipped INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (example_id, method, purpose));
CREATE TABLE IF NOT EXISTS scored_prompts (prompt_sha TEXT PRIMARY KEY, logprobs TEXT NOT NULL, predicted TEXT NOT NULL, source TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS masked (
  example_id TEXT NOT NULL, method TEXT NOT NULL, strategy TEXT NOT NULL, n_masked INTEGER NOT NULL,
  prompt_sha TEXT NOT NULL, orig_predicted TEXT NOT NULL, predicted TEXT NOT NULL, flipped INTEGER NOT NULL,
  orig_logprob REAL, masked_logprob REAL, orig_prob REAL, masked_prob REAL,
  n_outside INTEGER NOT NULL, PRIMARY KEY (example_id, method, strategy));
CREATE TABLE IF NOT EXISTS perturbed (
  example_id TEXT NOT NULL, method TEXT NOT NULL, strategy TEXT NOT NULL, kind TEXT NOT NULL, fraction REAL NOT NULL,
  n_words INTEGER NOT NULL, prompt_sha TEXT NOT NULL, predicted TEXT NOT NULL, masked_logprob REAL, masked_prob REAL,
  PRIMARY KEY (example_id, method, strategy, kind, fraction));
CREATE TABLE IF NOT EXISTS hidden (example_id TEXT PRIMARY KEY, positions TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS timings (stage TEXT PRIMARY KEY, seconds REAL NOT NULL, items INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS stage_memory (stage TEXT PRIMARY KEY, peak_rss_mib REAL NOT NULL);
CREATE TABLE IF NOT EXISTS epochs (epoch INTEGER PRIMARY KEY, summary TEXT NOT NULL);
"""


def prompt_sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


SQLITE_HEADER = b"SQLite format 3\x00"


def _move_aside_hint(path: Path) -> str:
    return f"move it aside (mv {path} {path}.damaged) and rerun to start this run afresh"


class ResultStore:
    """Read/write access to one run's results.

    Opening checks the file before anything is written: a file that is not SQLite, is
    truncated or fails ``PRAGMA quick_check`` is refused with a :class:`StoreError` naming it
    (never written into). ``readonly=True`` (reports) opens it through a ``mode=ro`` URI, so a
    report works on a run directory it cannot write to."""

    def __init__(self, path: Path | str, readonly: bool = False):
        self.path = Path(path)
        self.readonly = readonly
        existed = self.path.exists()
        if existed:
            check_store_file(self.path)
        elif readonly:
            raise StoreError(f"{self.path}: no result store here")
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        db: sqlite3.Connection | None = None
        try:
            db = _connect(self.path, readonly)
            if existed:
                _quick_check(db, self.path)
            if not readonly:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                db.executescript(SCHEMA)
        except (sqlite3.DatabaseError, StoreError) as e:
            if db is not None:
                db.close()
            raise (e if isinstance(e, StoreError) else _store_error(self.path, e)) from None
        self.db = db
        if existed:
            try:
                self.check_schema()
            except StoreError:
                db.close()
                raise

    def _check_schema(self) -> None:
        """Refuse a store written with another schema version: its rows would be mixed with new ones."""
        if not self.db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'").fetchone():
            return
        row = self.db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        if row is not None and json.loads(row[0]) != SCHEMA_VERSION:
            self.db.close()
            raise ConfigError(f"{self.path.parent}: this run was stored with result schema {json.loads(row[0])}, this faithscope "
                              f"writes schema {SCHEMA_VERSION}; rerun it into a new --output-dir")

    @classmethod
    def in_dir(cls, run_dir: Path | str) -> "ResultStore":
        return cls(Path(run_dir) / STORE_NAME)

    @classmethod
    def open_existing(cls, run_dir: Path | str, readonly: bool = True) -> "ResultStore":
        """The store of an existing run; read-only unless ``readonly=False``."""
        path = Path(run_dir) / STORE_NAME
        if not path.is_file():
            raise ConfigError(f"{run_dir}: no {STORE_NAME} here; is this a faithscope run directory?")
        return cls(path, readonly=readonly)

    def check_schema(self) -> None:
        """Refuse a store written with another schema version: its rows would be mixed with new
        ones (resume) or lack columns this version reads (report)."""
        if not self.db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='meta'").fetchone():
            return
        stored = self.get_meta("schema")
        if stored is not None and stored != SCHEMA_VERSION:
            raise StoreError(f"{self.path}: written by another faithscope version (result-store schema {stored}, this one writes "
                             f"{SCHEMA_VERSION}); rerun into a new --output-dir (old results are not mixed with new ones)")

    def close(self) -> None:
        self.db.close()

    # -- meta ----------------------------------------------------------------------
    def get_meta(self, key: str, default: Any = None) -> Any:
        row = self.db.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def set_meta(self, **items: Any) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", [(k, json.dumps(v, default=str)) for k, v in items.items()])

    def bind_config(self, config: RunConfig, identity: dict[str, Any], versions: dict[str, str]) -> None:
        """Record the config of a new run, or refuse a different one in an existing run."""
        self.check_schema()
        stored = self.get_meta("config_result")
        result = redact_value(config.result_dict())
        if stored is None:
            self.set_meta(schema=SCHEMA_VERSION, config=redact_value(config.as_dict()), config_result=result,
                          config_hash=config.config_hash(), model_identity=redact_value(identity), versions=versions, created=time.time())
            return
        identity = redact_value(identity)
        diff = config_diff(with_later_keys(stored), result)
        if diff:
            raise ConfigError(f"{self.path.parent} holds a run with another configuration ({'; '.join(diff)}); "
                              "use a new --output-dir or the same options")
        old_identity = self.get_meta("model_identity")
        if old_identity != identity:
            raise ConfigError(f"{self.path.parent}: the model differs from the one this run started with "
                              f"({old_identity} != {identity}); use a new --output-dir")
        self.set_meta(config=redact_value(config.as_dict()), versions_resumed=versions)

    # -- examples ------------------------------------------------------------------
    def bind_examples(self, examples: list[Example]) -> None:
        ids = [e.id for e in examples]
        stored = self.get_meta("example_ids")
        if stored is not None and stored != ids:
            raise ConfigError(f"{self.path.parent}: the examples differ from the stored sample (the data files changed?); use a new --output-dir")
        if stored is None:
            with self.db:
                self.db.executemany("INSERT OR REPLACE INTO examples VALUES (?,?,?,?,?,?,?)", [
                    (e.id, i, e.label, e.n_words, json.dumps(sorted(e.rationale)), json.dumps({k: list(v) for k, v in e.fields.items()}), e.source)
                    for i, e in enumerate(examples)])
                self.db.execute("INSERT OR REPLACE INTO meta VALUES ('example_ids', ?)", (json.dumps(ids),))

    def examples(self) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT example_id, label, n_words, human, fields, source FROM examples ORDER BY idx").fetchall()
        return [{"id": r[0], "label": r[1], "n_words": r[2], "human": json.loads(r[3]), "fields": json.loads(r[4]), "source": r[5]} for r in rows]

    # -- predictions ---------------------------------------------------------------
    def predictions(self) -> dict[str, LabelScores]:
        out = {}
        for eid, labels, lps, tokens, trunc, source in self.db.execute("SELECT example_id, labels, logprobs, tokens, truncated_words, source FROM predictions"):
            out[eid] = LabelScores(tuple(json.loads(labels)), tuple(json.loads(lps)), {k: tuple(v) for k, v in json.loads(tokens).items()}, trunc, source)
        return out

    def put_predictions(self, items: Iterable[tuple[str, LabelScores, dict[str, Any] | None]],
                        hidden: Mapping[str, Iterable[int]] | None = None) -> None:
        """Store predictions and, in the same transaction, the truncated examples' ``hidden``
        positions (words cut from the window)."""
        with self.db:
            if hidden:
                self.db.executemany("INSERT OR REPLACE INTO hidden VALUES (?,?)",
                                    [(eid, json.dumps(sorted(pos))) for eid, pos in hidden.items() if pos])
            self.db.executemany("INSERT OR REPLACE INTO predictions VALUES (?,?,?,?,?,?,?,?)", [
                (eid, json.dumps(s.labels), json.dumps(s.logprobs), s.predicted, json.dumps({k: list(v) for k, v in s.tokens.items()}), s.truncated_words,
                 s.source, json.dumps(detail) if detail else None)
                for eid, s, detail in items])

    def hidden(self) -> dict[str, list[int]]:
        """Per truncated example, the word positions outside the visible window."""
        return {eid: json.loads(pos) for eid, pos in self.db.execute("SELECT example_id, positions FROM hidden")}

    # -- rationales ----------------------------------------------------------------
    def rationale_keys(self, method: str) -> set[tuple[str, str]]:
        return set(self.db.execute("SELECT example_id, purpose FROM rationales WHERE method=?", (method,)).fetchall())

    def put_rationales(self, items: Iterable[tuple[str, str, Rationale]], settings: dict[str, Any]) -> None:
        s = json.dumps(settings, sort_keys=True)
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO rationales VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", [
                (eid, r.method, purpose, r.target_label, r.k, json.dumps(list(r.positions)),
                 json.dumps(list(r.scores)) if r.scores is not None else None, r.raw_reply, int(r.parsed),
                 json.dumps(list(r.not_found)), r.n_reply_words, json.dumps([list(d) for d in r.draws]) if r.draws else None, s,
                 r.parse_error, int(r.skipped))
                for eid, purpose, r in items])

    def rationales(self, method: str | None = None, purpose: str | None = None) -> Iterator[tuple[str, str, Rationale]]:
        q = "SELECT example_id, method, purpose, target_label, k, positions, scores, raw_reply, parsed, not_found, n_reply_words, draws, parse_error, skipped FROM rationales WHERE 1=1"
        args: list[Any] = []
        if method:
            q += " AND method=?"
            args.append(method)
        if purpose:
            q += " AND purpose=?"
            args.append(purpose)
        for eid, m, p, t, k, pos, sc, raw, parsed, nf, nw, draws, error, skipped in self.db.execute(q, args):
            yield eid, p, Rationale(m, tuple(json.loads(pos)), t, k, tuple(json.loads(sc)) if sc else None, raw, bool(parsed),
                                    tuple(json.loads(nf)), nw, tuple(tuple(d) for d in json.loads(draws)) if draws else (),
                                    error, bool(skipped))

    # -- masked scoring ------------------------------------------------------------
    def scored_prompts(self, shas: Iterable[str], labels: tuple[str, ...]) -> dict[str, LabelScores]:
        shas = list(shas)
        out: dict[str, LabelScores] = {}
        for i in range(0, len(shas), 500):
            chunk = shas[i:i + 500]
            q = f"SELECT prompt_sha, logprobs, source FROM scored_prompts WHERE prompt_sha IN ({','.join('?' * len(chunk))})"
            for sha, lps, source in self.db.execute(q, chunk):
                out[sha] = LabelScores(labels, tuple(json.loads(lps)), source=source)
        return out

    def masked_keys(self, strategy: str) -> set[tuple[str, str]]:
        return set(self.db.execute("SELECT example_id, method FROM masked WHERE strategy=?", (strategy,)).fetchall())

    def put_masked(self, scored: dict[str, LabelScores], rows: list[tuple], perturbed: Sequence[tuple] = ()) -> None:
        """Store newly scored prompts, the masked rows and their other inputs' rows
        (``perturbed``: sufficiency and AOPC bins), in one transaction."""
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO scored_prompts VALUES (?,?,?,?)", [(sha, json.dumps(s.logprobs), s.predicted, s.source) for sha, s in scored.items()])
            self.db.executemany("INSERT OR REPLACE INTO perturbed VALUES (?,?,?,?,?,?,?,?,?,?)", perturbed)
            self.db.executemany("INSERT OR REPLACE INTO masked VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)

    def masked(self, strategy: str | None = None) -> list[dict[str, Any]]:
        cols = ["example_id", "method", "strategy", "n_masked", "orig_predicted", "predicted", "flipped", "orig_logprob", "masked_logprob",
                "orig_prob", "masked_prob", "n_outside", "prompt_sha"]
        q = f"SELECT {', '.join(cols)} FROM masked" + (" WHERE strategy=?" if strategy else "")
        return [dict(zip(cols, r)) for r in self.db.execute(q, (strategy,) if strategy else ())]

    def perturbed(self, strategy: str | None = None) -> list[dict[str, Any]]:
        """The sufficiency (``kept``) and AOPC-bin rows (see the module doc)."""
        cols = ["example_id", "method", "strategy", "kind", "fraction", "n_words", "prompt_sha", "predicted", "masked_logprob", "masked_prob"]
        q = f"SELECT {', '.join(cols)} FROM perturbed" + (" WHERE strategy=?" if strategy else "")
        return [dict(zip(cols, r)) for r in self.db.execute(q, (strategy,) if strategy else ())]

    # -- timings and epochs ----------------------------------------------------------
    def add_timing(self, stage: str, seconds: float, items: int) -> None:
        with self.db:
            self.db.execute("INSERT INTO timings VALUES (?,?,?) ON CONFLICT(stage) DO UPDATE SET seconds=seconds+excluded.seconds, items=items+excluded.items", (stage, seconds, items))

    def timings(self) -> dict[str, tuple[float, int]]:
        return {s: (sec, n) for s, sec, n in self.db.execute("SELECT stage, seconds, items FROM timings")}

    def add_stage_peak(self, stage: str, peak_rss_mib: float) -> None:
        """Keep the highest resident memory seen during ``stage`` (over chunks and resumptions)."""
        with self.db:
            self.db.execute("INSERT INTO stage_memory VALUES (?,?) ON CONFLICT(stage) DO UPDATE SET peak_rss_mib=max(peak_rss_mib, excluded.peak_rss_mib)",
                            (stage, peak_rss_mib))

    def stage_peaks(self) -> dict[str, float]:
        """Peak resident memory (MiB) per stage; empty for runs recorded before it was kept."""
        return dict(self.db.execute("SELECT stage, peak_rss_mib FROM stage_memory"))

    def put_epoch(self, epoch: int, summary: dict[str, Any]) -> None:
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO epochs VALUES (?, ?)", (epoch, json.dumps(summary, default=str)))

    def epochs(self) -> dict[int, dict[str, Any]]:
        return {e: json.loads(s) for e, s in self.db.execute("SELECT epoch, summary FROM epochs ORDER BY epoch")}


def _open_checked(target: str | Path, uri: bool) -> sqlite3.Connection:
    db = sqlite3.connect(target, uri=uri, timeout=30)
    try:
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except BaseException:
        db.close()
        raise
    return db


def _connect(path: Path, readonly: bool) -> sqlite3.Connection:
    if not readonly:
        return _open_checked(path, uri=False)
    uri = f"{path.resolve().as_uri()}?mode=ro"
    if not path.with_name(path.name + "-wal").exists():
        # no WAL file: no connection is writing; read without creating -wal/-shm files, so
        # that a refused (or reported) store's directory stays exactly as it was
        return _open_checked(uri + "&immutable=1", uri=True)
    try:
        return _open_checked(uri, uri=True)
    except sqlite3.OperationalError as e:
        if "unable to open" not in str(e) and "readonly" not in str(e):
            raise
        # a WAL store in a directory we cannot write to: SQLite cannot create the -shm file;
        # nothing can be writing there either, so read it as immutable
        return _open_checked(uri + "&immutable=1", uri=True)


def connect_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection to a results.sqlite that leaves its directory byte-for-byte as it
    was (no -wal/-shm files created when none exist); for reports and for probing what kind of
    store a directory holds (counterfactual, selfexplain)."""
    return _connect(Path(path), readonly=True)


def finished_marker_status(run_dir: Path | str, meta_table: str) -> str:
    """``done`` (``finished`` is a key of ``meta_table``), ``partial`` (a store without it, or one
    that cannot be read) or ``new`` (no store); read-only, so asking creates nothing. The
    counterfactual (``cf_meta``) and selfexplain (``se_meta``) stores mark a finished run so."""
    path = Path(run_dir) / STORE_NAME
    if not path.is_file():
        return "new"
    try:
        db = connect_readonly(path)
    except sqlite3.Error:
        return "partial"
    try:
        if not db.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (meta_table,)).fetchone():
            return "partial"
        return "done" if db.execute(f"SELECT 1 FROM {meta_table} WHERE key='finished'").fetchone() else "partial"
    except sqlite3.DatabaseError:
        return "partial"
    finally:
        db.close()


def check_store_file(path: Path) -> None:
    """Refuse a ``results.sqlite`` that is not a readable SQLite file (without opening it for
    writing): not a regular file, unreadable, or with a foreign header. An empty file is a new
    store (SQLite's own reading of it)."""
    if not path.is_file():
        raise StoreError(f"{path}: not a file; {_move_aside_hint(path)}")
    try:
        with open(path, "rb") as f:
            head = f.read(len(SQLITE_HEADER))
    except OSError as e:
        raise StoreError(f"{path}: cannot read the result store ({e.strerror})") from None
    if head and head != SQLITE_HEADER:
        raise StoreError(f"{path}: not a faithscope result store (not an SQLite file); {_move_aside_hint(path)}")


def _quick_check(db: sqlite3.Connection, path: Path) -> None:
    rows = db.execute("PRAGMA quick_check").fetchall()
    if [r[0] for r in rows] != ["ok"]:
        found = " ".join(str(r[0]) for r in rows[:3]).replace("\n", " ")
        raise StoreError(f"{path}: damaged result store (quick_check: {found[:200]}); {_move_aside_hint(path)}")


def _store_error(path: Path, e: sqlite3.DatabaseError) -> StoreError:
    msg = str(e).splitlines()[0] if str(e) else type(e).__name__
    if "readonly" in msg or "read-only" in msg or "unable to open" in msg:
        return StoreError(f"{path}: cannot write the result store ({msg}); check the permissions of {path.parent} or use another --output-dir")
    return StoreError(f"{path}: damaged result store ({msg}); {_move_aside_hint(path)}")
