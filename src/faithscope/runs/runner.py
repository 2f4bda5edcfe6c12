"""``faithscope run``: classify, extract rationales, mask and re-score; resumable at any point.

Stages (each skips what the store already holds, each batch committed atomically):
1. *label scoring* of the unmodified inputs (one forward per token-budget batch);
2. *rationales* of every method for the TRUE label (alignment) and the PREDICTED label
   (faithfulness); attention/saliency/Input x Gradient share one pass per (example, label),
   identical prompting prompts are generated once;
3. *masking*: every faithfulness rationale (plus ALL, HUMAN, RANDOM when selected) is
   deleted (or replaced) in the classification prompt, kept alone (ERASER sufficiency) and,
   for scored methods, binned (AOPC, :mod:`.perturb`; not with ``--no-aopc``), all re-scored in batched forwards; an
   input identical to one already scored (same prompt hash) is not scored again. Masking
   deletes from the visible (possibly truncated) window only; rationale words outside it are
   excluded and counted.
Timings per stage go to the store's run summary.
"""

from __future__ import annotations

import logging
import math
import platform
import time
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence

from ..data import dataset_spec, load_dataset
from ..errors import ConfigError
from ..methods import MethodContext, MethodOptions, RationaleRequest, get_method
from ..tasks import Task, load_task, resolve_task
from ..tasks.check import check_backend_verbalizers
from ..tasks.fit import PromptBuilder
from ..types import Example, LabelScores
from . import memory, perturb
from .config import RunConfig, config_diff, with_later_keys
from .lock import LOCK_NAME, RunLock, acquire
from .preflight import preflight
from .progress import progress
from .store import STORE_NAME, ResultStore, prompt_sha

log = logging.getLogger(__name__)
PURPOSES = ("alignment", "faithfulness")
STAGES = {"prompting": "prompting_generation", "attribution": "attribution", "baseline": "baselines"}


@dataclass
class RunResult:
    run_dir: Path
    examples: list[Example]
    store: ResultStore
    nothing_to_do: bool = False
    """The store already held every result: no model was loaded."""


def package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {"python": platform.python_version()}
    for pkg in ("faithscope", "torch", "transformers", "peft", "numpy", "httpx"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def resolve_run_task(config: RunConfig) -> Task:
    """The task of ``config``: ``--task`` (a file or a name) or the dataset's built-in one.

    A given ``--task`` has its resolved file and content hash recorded in ``config`` (result
    keys), as has the ``--data-file``'s hash: editing either makes another run, never a mix."""
    if not config.task:
        return load_task(str(dataset_spec(config.dataset).task))
    task = resolve_task(config.task, config.task_dir)
    config.task_path, config.task_sha256 = str(Path(task.path).resolve()), task.sha256
    if config.data_file:
        from ..data.user_file import file_format
        from ..models.loading import file_sha256

        data = Path(config.data_file).expanduser()
        file_format(data)  # an unknown extension is named before a missing file
        if not data.is_file():
            raise ConfigError(f"--data-file {config.data_file}: file not found")
        config.data_sha256 = file_sha256(data)
    return task


def load_dataset_for(config: RunConfig, task: Task | None = None):
    """The :class:`~faithscope.data.LoadedDataset` of ``config`` (with its skipped count);
    ``task`` is the resolved task (default: :func:`resolve_run_task`)."""
    options: dict[str, Any] = {"min_annotators": config.min_annotators} if config.dataset == "esnli" else {}
    if config.data_file:
        options["path"] = config.data_file
    if config.split:
        options["split"] = config.split
    given = bool(config.task) or dataset_spec(config.dataset).task is None  # a task other than the dataset's own
    if given and task is None:
        task = resolve_run_task(config)
    loaded = load_dataset(config.dataset, config.data_dir, n=config.n, seed=config.seed, first=config.first, skip_invalid=config.skip_invalid,
                          task=task if given else None, **options)
    if not loaded.examples:
        raise ConfigError(f"dataset {config.dataset!r} gave no examples" + (f" ({loaded.skipped} invalid records skipped)" if loaded.skipped else ""))
    return loaded


def load_examples(config: RunConfig) -> tuple[list[Example], str, str]:
    loaded = load_dataset_for(config)
    return loaded.examples, loaded.task, loaded.note


def make_backend(config: RunConfig, loaded_model: Any = None):
    """The model backend for ``config`` (``loaded_model`` reuses an already loaded model)."""
    if config.backend == "openai":
        from ..models.openai import OpenAIBackend

        cache = Path(config.output_dir) / "requests.sqlite"
        cache.parent.mkdir(parents=True, exist_ok=True)
        return OpenAIBackend(base_url=config.base_url, model=config.model.name, api_key_env=config.api_key_env, endpoint=config.endpoint,
                             timeout=config.timeout, max_retries=config.max_retries, concurrency=config.concurrency,
                             cache=cache, top_logprobs=config.top_logprobs, context_window=config.max_length,
                             extra_body=config.extra_body, score_missing=config.score_missing)
    from ..models.hf import HFBackend
    from ..models.loading import load_model

    loaded = loaded_model if loaded_model is not None else load_model(config.model)
    return HFBackend(loaded, max_batch_tokens=config.max_batch_tokens, max_batch_size=max(config.batch_size, 1))


@dataclass(frozen=True)
class Pending:
    """How much of a run's work the store already holds (counts of items per stage)."""

    n_examples: int
    classified: int
    with_rationales: int
    masked: int
    to_mask: int

    @property
    def complete(self) -> bool:
        return self.classified == self.with_rationales == self.n_examples and self.masked == self.to_mask

    @property
    def started(self) -> bool:
        return self.classified > 0

    def line(self) -> str:
        if self.complete:
            return f"nothing to do: {self.n_examples} of {self.n_examples} done"
        return (f"resuming: {self.classified} of {self.n_examples} examples classified, {self.with_rationales} with all rationales, "
                f"{self.masked} of {self.to_mask} known rationales masked")


class Runner:
    """Runs one configuration into one run directory; call :meth:`run`.

    The constructor checks everything that needs no model first (:mod:`.preflight`), takes
    the run directory's lock, opens (and checks) an existing store, and only then loads the
    model, unless the store already holds every result (:attr:`nothing_to_do`). A directory
    that this constructor created is removed again if it fails before storing anything."""

    def __init__(self, config: RunConfig, backend: Any = None, loaded_model: Any = None, examples: Sequence[Example] | None = None,
                 wait: bool = False, notify: Callable[[str], None] | None = None):
        self.config = config
        self.run_dir = Path(config.output_dir)
        self.notify = notify or log.info
        preflight(config, check_model=backend is None and loaded_model is None)
        self.task = resolve_run_task(config)
        self.skipped: tuple[int, list[str]] = (0, [])
        if examples is None:
            loaded = load_dataset_for(config, self.task)
            self.examples, self.sample_note = loaded.examples, loaded.note
            self.skipped = (loaded.skipped, loaded.skipped_reasons[:20])
            if loaded.skipped:
                self.notify(f"skipped {loaded.skipped} invalid record(s) (--skip-invalid); first: {loaded.skipped_reasons[0]}")
            if loaded.note:
                self.notify(f"note: {loaded.note}")
        else:  # a subset the caller chose (e.g. the longest documents): nothing to load
            if not examples:
                raise ConfigError("examples: the chosen subset is empty")
            self.examples = list(examples)
            self.sample_note = f"{len(self.examples)} examples of {config.dataset} chosen by the caller"
        self.methods = [get_method(m) for m in config.methods]
        created = not self.run_dir.exists()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self._lock: RunLock | None = None
        self._engine = None
        try:
            self._lock = acquire(self.run_dir, wait=wait)
            existing = (self.run_dir / STORE_NAME).exists()
            self.store = ResultStore.in_dir(self.run_dir) if existing else None
            self.nothing_to_do = False
            if self.store is not None and self._bound_to_same_run():
                pending = self.pending()
                if pending.complete and backend is None and loaded_model is None and self._same_model_files():
                    self.nothing_to_do = True
                    self.backend = None
                    self.notify(pending.line())
                    return
                if pending.started:
                    self.notify(pending.line())
            self.backend = backend if backend is not None else make_backend(config, loaded_model)
            check_backend_verbalizers(self.task, self.backend)
            if not getattr(self.backend, "supports_gradients", False):
                bad = [m.name for m in self.methods if m.needs_gradients]
                if bad:
                    raise ConfigError(f"method(s) {', '.join(bad)} need gradients or attention: {self.backend.no_gradient_reason}")
            self.prompts = PromptBuilder(self.task, self.backend, prompt_format=config.prompt_format, max_length=config.max_length)
            self.options = MethodOptions(attribution=config.attribution, seed=config.seed, random_draws=config.random_draws, max_new_tokens=config.max_new_tokens,
                                         ig_steps=config.ig_steps)
            if self.store is None:
                self.store = ResultStore.in_dir(self.run_dir)
            self.store.bind_config(config, dict(self.backend.identity), package_versions())
            self.store.bind_examples(self.examples)
            self.store.set_meta(task=self.task.name, labels=list(self.task.labels), sample_note=self.sample_note,
                                skipped_invalid=self.skipped[0], skipped_reasons=self.skipped[1])
        except BaseException:
            if getattr(self, "store", None) is not None and self.store is not None:
                self.store.close()
            self._release()
            if created:
                _remove_if_empty(self.run_dir)
            raise

    def release(self) -> None:
        """Release the run directory's lock (done by :meth:`run`; for callers that run the
        stages one by one)."""
        self._release()

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def _bound_to_same_run(self) -> bool:
        """The store was started with this configuration and this sample of examples."""
        stored = self.store.get_meta("config_result")
        return (stored is not None and not config_diff(with_later_keys(stored), self.config.result_dict())
                and self.store.get_meta("example_ids") == [e.id for e in self.examples])

    def _same_model_files(self) -> bool:
        """For a local or embedded model: the stored identity's file hashes still match (without loading)."""
        if self.config.backend != "transformers":
            return True
        from ..models.loading import resolve

        stored = self.store.get_meta("model_identity") or {}
        _, _, ident = resolve(self.config.model)
        return all(stored.get(k) == v for k, v in ident.items())

    def pending(self) -> Pending:
        """Counts of what the store holds against what this run needs (no model needed)."""
        preds = self.store.predictions()
        ids = [e.id for e in self.examples]
        keys = {m.name: self.store.rationale_keys(m.name) for m in self.methods}
        with_all = sum(all((eid, p) in keys[m.name] for m in self.methods for p in PURPOSES) for eid in ids)
        masked = self.store.masked_keys(self.config.mask)
        wanted = {(eid, m.name) for m in self.methods for eid in ids
                  if (eid, "faithfulness") in keys[m.name] and eid in preds}  # every example gets a masked row (also one with no label)
        return Pending(len(ids), sum(eid in preds for eid in ids), with_all, len(wanted & masked), len(wanted))

    @contextmanager
    def _timed(self, stage: str, items: int) -> Iterator[None]:
        """Seconds and peak resident memory of one chunk of ``stage``, added to the store."""
        memory.reset_peak()
        start = time.perf_counter()
        try:
            yield
        finally:
            self.store.add_timing(stage, time.perf_counter() - start, items)
            self.store.add_stage_peak(stage, memory.peak_rss_mib())

    def run(self) -> RunResult:
        """Do what the store does not hold yet; the lock is released when done (or failed)."""
        try:
            if not self.nothing_to_do:
                self.classify()
                self.extract_rationales()
                self.mask_and_rescore()
                peak = memory.process_peak_rss_mib()
                self.store.set_meta(peak_rss_mib=max(peak, self.store.get_meta("peak_rss_mib", 0) or 0), finished=time.time())
        finally:
            self._release()
        return RunResult(self.run_dir, self.examples, self.store, self.nothing_to_do)

    # -- stage 1 -----------------------------------------------------------------------
    def classify(self) -> dict[str, LabelScores]:
        done = self.store.predictions()
        todo = [e for e in self.examples if e.id not in done]
        step = max(self.config.batch_size, 1) * 4
        with progress(len(self.examples), "label scoring", initial=len(self.examples) - len(todo), enabled=self.config.progress) as bar:
            for i in range(0, len(todo), step):
                chunk = todo[i:i + step]
                with self._timed("label_scoring", len(chunk)):
                    fitted = [self.prompts.classification(e) for e in chunk]
                    scores = self.score_prompts([f.text for f in fitted])
                    self.store.put_predictions([(e.id, replace(s, truncated_words=f.truncated_words), detail) for e, f, (s, detail) in zip(chunk, fitted, scores)],
                                               hidden={e.id: f.hidden for e, f in zip(chunk, fitted) if f.hidden})
                bar.update(len(chunk))
        preds = self.store.predictions()
        self.warn_truncation(preds)
        return preds

    def warn_truncation(self, preds: dict[str, LabelScores]) -> str | None:
        """Say (log warning) how many examples and words truncation cut, and how many human
        rationale words fell outside the window; returns the message (``None``: nothing cut)."""
        cut = {e.id: preds[e.id].truncated_words for e in self.examples if e.id in preds and preds[e.id].truncated_words}
        if not cut:
            return None
        hidden = self.store.hidden()
        outside = sum(len(e.rationale & set(hidden.get(e.id, ()))) for e in self.examples if e.id in cut)
        msg = (f"truncation: {len(cut)} of {len(self.examples)} examples were cut to fit {self.prompts.max_length} tokens "
               f"({sum(cut.values())} words dropped; {outside} human-rationale words outside the window, excluded from "
               f"alignment and masking and counted in the tables); e.g. {', '.join(list(cut)[:3])}")
        log.warning(msg)
        return msg

    def score_prompts(self, texts: Sequence[str]) -> list[tuple[LabelScores, dict[str, Any] | None]]:
        """Label scores of each prompt, with what a server backend did to get them."""
        verbalizers = self.prompts.verbalizers()
        detailed = getattr(self.backend, "score_labels_detailed", None)
        if detailed is None:
            return [(s, None) for s in self.backend.score_labels(texts, verbalizers)]
        labels, out = tuple(verbalizers), []
        for r in detailed(texts, verbalizers):
            detail = {"method": r.method, "missing": list(r.missing), "reply": r.reply, "label_logprobs": dict(r.label_logprobs),
                      "rescored": list(getattr(r, "rescored", ()))}
            if r.scores is not None:
                out.append((r.scores, detail))
            elif r.parsed:
                out.append((LabelScores(labels, tuple(0.0 if lab == r.label else -math.inf for lab in labels), source="generation"), detail))
            else:
                out.append((LabelScores(labels, tuple(-math.inf for _ in labels), source="unparseable"), detail))
        return out

    # -- stage 2 -----------------------------------------------------------------------
    def extract_rationales(self) -> None:
        """All methods over one chunk of examples share a context, so attention, saliency and
        Input x Gradient come from a single pass per (example, label)."""
        preds = self.store.predictions()
        settings = {"options": self.options.as_dict(), "prompt_format": self.config.prompt_format}
        done = {m.name: self.store.rationale_keys(m.name) for m in self.methods}
        todo = [e for e in self.examples if any((e.id, p) not in done[m.name] for m in self.methods for p in PURPOSES)]
        step = max(self.config.batch_size, 1)
        with progress(len(self.examples), "rationales", initial=len(self.examples) - len(todo), enabled=self.config.progress) as bar:
            for i in range(0, len(todo), step):
                chunk = todo[i:i + step]
                ctx = self._context()
                for method in self.methods:
                    requests = [RationaleRequest(e, e.label if p == "alignment" else preds[e.id].predicted, len(e.rationale), p)
                                for e in chunk for p in PURPOSES if (e.id, p) not in done[method.name]]
                    if not requests:
                        continue
                    with self._timed(STAGES[method.kind], len(requests)):
                        rationales = method.explain(requests, ctx)
                        self.store.put_rationales(((r.example.id, r.purpose, rat) for r, rat in zip(requests, rationales)), {**settings, "method": method.name,
                                                   **({"reply_mapping": self.task.reply_mapping()} if method.kind == "prompting" else {})})
                bar.update(len(chunk))

    def _context(self) -> MethodContext:
        if self._engine is None and getattr(self.backend, "supports_gradients", False) and any(m.needs_gradients for m in self.methods):
            from ..models.gradients import GradientEngine

            self._engine = GradientEngine(self.backend, max_batch_tokens=self.config.max_batch_tokens, max_batch_size=self.config.batch_size)
        return MethodContext(self.task, self.backend, self.prompts, self.options, self._engine)

    # -- stage 3 -----------------------------------------------------------------------
    def mask_and_rescore(self) -> None:
        """Score every faithfulness rationale's inputs (removed, kept, AOPC bins), per chunk in
        one transaction; the rationales already in ``masked`` are done (a rerun scores nothing)."""
        preds = self.store.predictions()
        strategy = self.config.mask
        placeholder = self.config.placeholder if strategy == "placeholder" else None
        done = self.store.masked_keys(strategy)
        every = [(eid, rat) for eid, _, rat in self.store.rationales(purpose="faithfulness")]
        rationales = [(eid, rat) for eid, rat in every if (eid, rat.method) not in done]
        by_id = {e.id: e for e in self.examples}
        step = max(self.config.batch_size, 1) * 4
        bins = perturb.AOPC_BINS if self.config.aopc else ()  # --no-aopc: removed and kept-only inputs only
        n_scored = n_reused = 0
        # the bar counts rationales (not examples: one per example and method), those of a
        # resumed run included, and shows how many inputs were scored or reused (deduplicated)
        with progress(len(every), "masking", initial=len(every) - len(rationales), enabled=self.config.progress, unit="rationale") as bar:
            for i in range(0, len(rationales), step):
                chunk = rationales[i:i + step]  # every example gets a row, also one whose original reply named no label
                with self._timed("masking", len(chunk)):
                    plans = []
                    for eid, rat in chunk:
                        ex = by_id[eid]
                        p = perturb.plan(rat.positions, rat.scores, self.prompts.visible(ex), ex.n_words, bins=bins)
                        texts = [self.prompts.classification(ex, q.drop, placeholder).text for q in (p.removed, *p.others)]
                        plans.append((eid, rat, p, [prompt_sha(t) for t in texts], texts))
                    wanted = {sha: t for *_, shas, texts in plans for sha, t in zip(shas, texts)}
                    known = self.store.scored_prompts(set(wanted), self.task.labels)
                    for eid, *_ in plans:  # an input with nothing dropped is the original prompt: already scored
                        known[prompt_sha(self.prompts.classification(by_id[eid]).text)] = preds[eid]
                    missing = {sha: t for sha, t in wanted.items() if sha not in known}
                    fresh = dict(zip(missing, (s for s, _ in self.score_prompts(list(missing.values()))))) if missing else {}
                    scored = {**known, **fresh}
                    rows, others = [], []
                    for eid, rat, p, shas, _ in plans:
                        orig = preds[eid]
                        rows.append(masked_row(eid, rat.method, strategy, p.removed.n_words, shas[0], orig, scored[shas[0]], p.outside))
                        if not orig.predicted:  # the original reply named no label: no probability to follow
                            continue
                        for q, sha in zip(p.others, shas[1:]):
                            s = scored[sha]
                            lp, pr = _label_side(orig.predicted, s)
                            others.append((eid, rat.method, strategy, q.kind, q.fraction, q.n_words, sha, s.predicted, lp, pr))
                    self.store.put_masked(fresh, rows, others)
                n_scored += len(fresh)
                n_reused += sum(len(shas) for *_, shas, _ in plans) - len(fresh)
                bar.set_postfix_str(f"inputs scored {n_scored}, reused {n_reused}", refresh=False)
                bar.update(len(chunk))


def _label_side(label: str, scores: LabelScores) -> tuple[float | None, float | None]:
    """Log-probability and probability of ``label`` in ``scores``, or ``(None, None)`` when that
    side was not scored from log-probabilities (a server that named a label only in text)."""
    if not label or scores.source != "logprobs":
        return None, None
    j = scores.labels.index(label)
    return scores.logprobs[j], scores.probs[j]


def masked_row(eid: str, method: str, strategy: str, n_masked: int, sha: str, orig: LabelScores, masked: LabelScores, n_outside: int = 0) -> tuple:
    """One ``masked`` store row; every example gets one, so a run always finishes and N is all examples.

    * Original reply named no label (``orig.predicted == ""``, server backend): nothing to flip;
      stored with ``flipped = 0`` and counted in N as "not flippable" (the tables show the count).
    * Masked reply named no label (``masked.predicted == ""``): the original label is no longer
      predicted, so ``flipped = 1`` (counted and shown as unparseable).
    * Each side's log-probability and probability of the original label are stored only when
      that side was scored from log-probabilities (``source == "logprobs"``); otherwise NULL: a
      label a server named only in text has no probability, and a one-hot stand-in would feed
      made-up numbers into Δ log p and comprehensiveness (the tables use rows with both sides
      and count the others).
    """
    label = orig.predicted
    flip = int(bool(label) and masked.predicted != label)
    (olp, op), (mlp, mp) = _label_side(label, orig), _label_side(label, masked)
    return (eid, method, strategy, n_masked, sha, label, masked.predicted, flip, olp, mlp, op, mp, n_outside)


def _remove_if_empty(run_dir: Path) -> None:
    """Remove a run directory this run created and that holds no results: its lock file, a
    store without examples and a request cache are removed, then the directory if empty."""
    store = run_dir / STORE_NAME
    try:
        if store.exists():
            check = ResultStore(store, readonly=True)
            try:
                if check.get_meta("example_ids") is not None:
                    return
            finally:
                check.close()
        for name in (LOCK_NAME, STORE_NAME, "requests.sqlite"):
            for suffix in ("", "-wal", "-shm", "-journal"):
                (run_dir / (name + suffix)).unlink(missing_ok=True)
        run_dir.rmdir()
    except (OSError, ConfigError):
        pass


def run(config: RunConfig, backend: Any = None, loaded_model: Any = None, examples: Sequence[Example] | None = None,
        wait: bool = False, notify: Callable[[str], None] | None = None) -> RunResult:
    """Python API: run (or resume) ``config``; returns the open store and examples.

    ``examples`` replaces the config's sample with a subset the caller chose (of the same
    dataset); a resumed run must be given the same subset."""
    return Runner(config, backend=backend, loaded_model=loaded_model, examples=examples, wait=wait, notify=notify).run()
