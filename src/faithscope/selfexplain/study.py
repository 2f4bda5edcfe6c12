"""The self-explanation study: its plan (conditions) and their resumable execution.

Conditions (:func:`plan`; names are what the store and the tables use):

* ``before`` — the base model, evaluated on every task × style × mode;
* ``after:main`` — trained on every style of every task, evaluated on all;
* ``after:style=<s>`` — trained on style ``s`` only (every task), evaluated on all styles
  (the cross-style 3×3 matrix: trained style × evaluated style);
* ``after:unseen=<t>`` — trained on every style of the other tasks, evaluated on ``t`` only.

Execution (:class:`Study`), each step skipped when the store already holds its result:

1. pseudo-faithful one-word explanations per task that some condition trains on, built with
   the **base** model on the task's training split (``predict`` gives the predictions being
   explained; se-train's ``build_pseudo_explanations``) — stored whole per task;
2. ``before``: the base model's predictions and checks on the evaluation split;
3. per trained condition: ``training_mix`` of the condition's pseudo items and the plain
   classification instructions of its training tasks, ``train_selfexplain`` on a fresh copy
   of the base model (resumable per epoch by se-train's trainer; the finished condition is
   marked in the store, so a rerun does not call the trainer again), then base + the last
   epoch's adapter is evaluated like ``before``.

Evaluation runs in chunks of ``config.eval_chunk`` examples: the forced-choice predictions of
a chunk are stored first, then per mode the checks of every style (one ``evaluate_styles``
call: one batched generation, one scoring) and their second view
(``explained_word_faithfulness``) in one transaction. A kill loses at most the chunk in
flight; a rerun computes only the (style, mode, example) rows that are missing and loads no
model at all when nothing is. Stage times (building explanations, training, evaluation, second
view, model loading) and each stage's peak resident memory (:mod:`faithscope.runs.memory`)
add up in ``se_timings``. One process per directory (:mod:`faithscope.runs.lock`).

The model-facing steps come from :class:`Stages` (the se-checks and se-train functions of
the shared contract by default), so that tests can count and interrupt them.
"""

from __future__ import annotations

import copy
import dataclasses
import gc
import time
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

from ..errors import ConfigError
from ..models.loading import LoadedModel, ModelSpec
from ..runs.lock import acquire
from ..runs.memory import peak_rss_mib, reset_peak
from ..runs.progress import progress
from ..types import Example, LabelScores
from .config import StudyConfig
from .spec import SelfConsistencySpec
from .store import StudyStore
from .types import CheckRow, PseudoResult, TrainItem

BEFORE = "before"
ADAPTERS = "adapters"

Event = Callable[[str, Mapping[str, Any]], None]


@dataclass(frozen=True)
class Condition:
    """One model state evaluated in the study: what it was trained on and what it is evaluated on."""

    name: str
    experiment: str
    """``before``, ``main``, ``cross-style`` or ``unseen-task``."""
    train_tasks: tuple[str, ...]
    train_styles: tuple[str, ...]
    eval_tasks: tuple[str, ...]
    eval_styles: tuple[str, ...]

    @property
    def trained(self) -> bool:
        return bool(self.train_tasks)

    @property
    def slug(self) -> str:
        """The condition's directory name under ``adapters/`` (no ``:`` or ``=``)."""
        return self.name.replace(":", "-").replace("=", "-")


def plan(config: StudyConfig) -> list[Condition]:
    """The conditions of ``config``'s experiments, ``before`` first."""
    tasks, styles = tuple(config.tasks), tuple(config.styles)
    out = [Condition(BEFORE, "before", (), (), tasks, styles)]
    if "main" in config.experiments:
        out.append(Condition("after:main", "main", tasks, styles, tasks, styles))
    if "cross-style" in config.experiments:
        out += [Condition(f"after:style={s}", "cross-style", tasks, (s,), tasks, styles) for s in styles]
    if "unseen-task" in config.experiments:
        out += [Condition(f"after:unseen={t}", "unseen-task", tuple(x for x in tasks if x != t), styles, (t,), styles)
                for t in tasks]
    return out


# -- the model-facing steps (the shared contract), injectable ------------------------------------------------
def _known_tasks() -> Sequence[str]:
    from .tasks import STUDY_TASKS  # se-checks: the study's task names → (datasets, task file), the one place

    return list(STUDY_TASKS)


def _load_spec(task: str) -> SelfConsistencySpec:
    from .tasks import task_spec

    return task_spec(task)


def _task_splits(task: str, data_dir: str | None, *, train_n: int, eval_n: int, seed: int = 0) -> tuple[list[Example], list[Example]]:
    from .splits import task_splits

    return task_splits(task, data_dir, train_n=train_n, eval_n=eval_n, seed=seed)


def _predict(backend: Any, spec: SelfConsistencySpec, examples: Sequence[Example]) -> dict[str, LabelScores]:
    """Labels + unknown on each unedited input (stored whole: how often the model would answer
    unknown with nothing redacted is a diagnostic of the report); callers take the forced choice."""
    from .checks import score_originals

    return score_originals(backend, spec, examples)


def _forced(spec: SelfConsistencySpec, scores: LabelScores) -> LabelScores:
    from .checks import forced_choice

    return forced_choice(scores, spec.task.labels)


def _evaluate(backend: Any, spec: SelfConsistencySpec, examples: Sequence[Example], styles: Sequence[str], mode: str, *,
              seed: int = 0, predictions: Mapping[str, LabelScores] | None = None, task_name: str | None = None) -> list[CheckRow]:
    from .evaluate import evaluate_styles

    return evaluate_styles(backend, spec, examples, styles, mode, seed=seed, predictions=predictions, task_name=task_name)


def _word_faith(backend: Any, spec: SelfConsistencySpec, examples: Sequence[Example], rows: Sequence[CheckRow], *,
                seed: int = 0, draws: int = 10) -> list[dict]:
    from .word_faithfulness import explained_word_faithfulness

    return explained_word_faithfulness(backend, spec, examples, rows, seed=seed, draws=draws)


def _build_pseudo(loaded: LoadedModel, backend: Any, spec: SelfConsistencySpec, examples: Sequence[Example], styles: Sequence[str], *,
                  predicted: Mapping[str, str], method: str = "input_x_gradient", top_m: int = 5, seed: int = 0,
                  timings: dict[str, float] | None = None) -> PseudoResult:
    from .pseudo import build_pseudo_explanations

    return build_pseudo_explanations(loaded, backend, spec, examples, styles, predicted=predicted, method=method, top_m=top_m, seed=seed,
                                     timings=timings)


def _training_mix(pseudo: PseudoResult, classification: Sequence[tuple[SelfConsistencySpec, Example]], *, replay: int = 0,
                  seed: int = 0) -> list[TrainItem]:
    from .training import training_mix

    return training_mix(pseudo, classification, replay=replay, seed=seed)


def _train(loaded: LoadedModel, items: Sequence[TrainItem], settings: Any, output_dir: Path, *, progress: bool = True) -> list[Path]:
    from .training import train_selfexplain

    return train_selfexplain(loaded, items, settings, output_dir, progress=progress)


def _load_model(spec: ModelSpec) -> LoadedModel:
    from ..models.loading import load_model

    return load_model(spec)


def _fresh_base(base: LoadedModel, spec: ModelSpec) -> LoadedModel:
    """An untouched base model to train or to attach an adapter to (training wraps the model in
    LoRA in place). A copy in memory for models under 2 B parameters (the embedded one: ~1 s
    instead of a ~30 s reload), a reload from disk for larger ones (no doubled GPU memory)."""
    n_params = sum(p.numel() for p in base.model.parameters())
    if n_params < 2_000_000_000:
        return dataclasses.replace(base, model=copy.deepcopy(base.model), identity=dict(base.identity))
    return _load_model(spec)


def _attach(loaded: LoadedModel, adapter: Path) -> LoadedModel:
    """``loaded`` with the trained LoRA adapter merged in (as ``load_model`` merges ``--adapter``)."""
    from ..models.loading import _attach_adapter

    model, path, sha = _attach_adapter(loaded.model, str(adapter))
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    identity = dict(loaded.identity) | {"selfexplain_adapter": path, "selfexplain_adapter_sha256": sha}
    return dataclasses.replace(loaded, model=model, identity=identity)


def _make_backend(loaded: LoadedModel) -> Any:
    from ..models.hf import HFBackend

    return HFBackend(loaded)


@dataclass
class Stages:
    """The model-facing steps of the study (defaults: the shared contract's functions)."""

    known_tasks: Callable[[], Sequence[str]] = _known_tasks
    load_spec: Callable[[str], SelfConsistencySpec] = _load_spec
    task_splits: Callable[..., tuple[list[Example], list[Example]]] = _task_splits
    load_model: Callable[[ModelSpec], LoadedModel] = _load_model
    fresh_base: Callable[[LoadedModel, ModelSpec], LoadedModel] = _fresh_base
    attach_adapter: Callable[[LoadedModel, Path], LoadedModel] = _attach
    make_backend: Callable[[LoadedModel], Any] = _make_backend
    predict: Callable[..., dict[str, LabelScores]] = _predict
    build_pseudo: Callable[..., PseudoResult] = _build_pseudo
    training_mix: Callable[..., list[TrainItem]] = _training_mix
    train: Callable[..., list[Path]] = _train
    evaluate_styles: Callable[..., list[CheckRow]] = _evaluate
    word_faithfulness: Callable[..., list[dict]] = _word_faith


def _free(loaded: Any) -> None:
    """Collect a trained model's reference cycles (peft wrappers) now, not at some later
    allocation; skipped for models that are not torch modules (a full collection costs ~0.5 s)."""
    if loaded is not None and hasattr(getattr(loaded, "model", None), "parameters"):
        loaded.model = None
        gc.collect()


def _chunks(items: Sequence[Any], n: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), n):
        yield items[i:i + n]


class Study:
    """Runs (or resumes) the plan of one :class:`StudyConfig` into its output directory."""

    def __init__(self, config: StudyConfig, stages: Stages | None = None, on_event: Event | None = None,
                 notify: Callable[[str], None] | None = None):
        self.config = config
        self.stages = stages or Stages()
        self.on_event = on_event or (lambda name, info: None)
        self.notify = notify or (lambda line: None)
        self.out = Path(config.output_dir)
        self.conditions = plan(config)
        self._base: LoadedModel | None = None
        self._base_backend: Any = None
        self.store: StudyStore | None = None

    # -- helpers ---------------------------------------------------------------------------------------
    @contextmanager
    def _stage(self, condition: str, stage: str, items: int = 0) -> Iterator[dict[str, int]]:
        """Time a stage and record its peak memory; ``count["items"]`` may be set inside. An
        interrupted stage adds its seconds (time spent) but no items (nothing was stored)."""
        reset_peak()
        count = {"items": items}
        start = time.perf_counter()
        finished = False
        try:
            yield count
            finished = True
        finally:
            assert self.store is not None
            self.store.add_timing(condition, stage, time.perf_counter() - start, count["items"] if finished else 0, peak_rss_mib())

    def base(self) -> LoadedModel:
        if self._base is None:
            with self._stage(BEFORE, "model loading", 1):
                self._base = self.stages.load_model(self.config.model)
            assert self.store is not None
            self.store.set_model_identity(self._base.identity)
        return self._base

    def base_backend(self) -> Any:
        if self._base_backend is None:
            self._base_backend = self.stages.make_backend(self.base())
        return self._base_backend

    # -- the run -----------------------------------------------------------------------------------------
    def run(self) -> Path:
        cfg = self.config
        cfg.check_tasks(self.stages.known_tasks())
        if cfg.data_dir is not None and not Path(cfg.data_dir).is_dir():
            raise ConfigError(f"--data-dir {cfg.data_dir}: no such directory")
        if cfg.settings is None:
            cfg.resolve()
        self.out.mkdir(parents=True, exist_ok=True)
        lock = acquire(self.out)
        try:
            self.store = StudyStore(self.out)
            self.store.bind_config(cfg.result_dict(), {"spec": cfg.model.as_dict()})
            self.specs = {t: self.stages.load_spec(t) for t in cfg.tasks}
            self.splits = {t: self.stages.task_splits(t, cfg.data_dir, train_n=cfg.train_n, eval_n=cfg.eval_n, seed=cfg.seed)
                           for t in cfg.tasks}
            for t, (train, evaluation) in self.splits.items():
                if not train or not evaluation:
                    raise ConfigError(f"task {t!r}: the data gave {len(train)} training and {len(evaluation)} evaluation examples")
            trained = self.store.trained()
            need = [t for t in cfg.tasks if any(t in c.train_tasks for c in self.conditions if c.name not in trained)]
            self._pseudo(need)
            for c in self.conditions:
                if c.trained and c.name not in trained:
                    self._train(c)
                self._evaluate(c)
            self.store.mark_finished()
        finally:
            self._base = self._base_backend = None
            if self.store is not None:
                self.store.close()
            lock.release()
        return self.out

    def _pseudo(self, tasks: Sequence[str]) -> None:
        assert self.store is not None
        done = self.store.pseudo_done()
        todo = [t for t in tasks if t not in done]
        cfg = self.config
        with progress(len(tasks), "pseudo explanations (tasks)", initial=len(tasks) - len(todo), enabled=cfg.progress) as bar:
            for t in todo:
                spec, train = self.specs[t], self.splits[t][0]
                clock: dict[str, float] = {}
                with self._stage(BEFORE, "building explanations", len(train)):
                    backend = self.base_backend()
                    predicted = {eid: _forced(spec, s).predicted for eid, s in self.stages.predict(backend, spec, train).items()}
                    result = self.stages.build_pseudo(self.base(), backend, spec, train, cfg.styles, predicted=predicted,
                                                      method=cfg.method, top_m=cfg.top_m, seed=cfg.seed, timings=clock)
                for part, seconds in clock.items():  # the builder's own breakdown (attribution, deletion, substitution, self-check)
                    self.store.add_timing(BEFORE, f"building explanations: {part}", seconds, len(train), None)
                self.store.put_pseudo(t, len(train), result.items, result.drops, result.chosen)
                bar.update(1)
                self.on_event("pseudo_stored", {"task": t, "items": len(result.items)})

    def _train(self, c: Condition) -> None:
        assert self.store is not None
        cfg = self.config
        items = [i for t in c.train_tasks for i in self.store.pseudo_items(t) if i.kind in c.train_styles]
        drops: Counter[str] = Counter()
        chosen: dict[str, dict[str, Any]] = {}
        for t in c.train_tasks:
            drops.update(self.store.pseudo_drops(t))
            chosen.update(self.store.pseudo_chosen(t))
        pseudo = PseudoResult(items=items, drops=drops, chosen=chosen)
        classification = [(self.specs[t], e) for t in c.train_tasks for e in self.splits[t][0]]
        mix = self.stages.training_mix(pseudo, classification, replay=int(getattr(cfg.settings, "replay", 0) or 0), seed=cfg.seed)
        self.notify(f"training {c.name} on {len(mix)} items ({dict(Counter(i.kind for i in mix))})")
        with self._stage(c.name, "training", len(mix)):
            model = self.stages.fresh_base(self.base(), cfg.model)
            adapters = self.stages.train(model, mix, cfg.settings, self.out / ADAPTERS / c.slug, progress=cfg.progress)
            _free(model)
            del model
        if not adapters:
            raise ConfigError(f"{c.name}: training wrote no adapter")
        self.store.put_trained(c.name, str(adapters[-1]), len(adapters), len(mix), Counter(i.kind for i in mix))
        self.on_event("trained", {"condition": c.name, "adapter": str(adapters[-1])})

    def _pending(self, c: Condition) -> dict[str, list[Example]]:
        assert self.store is not None
        out = {}
        for t in c.eval_tasks:
            done = self.store.done_keys(c.name, t)
            todo = [e for e in self.splits[t][1]
                    if any((s, m, e.id) not in done for s in c.eval_styles for m in self.config.modes)]
            if todo:
                out[t] = todo
        return out

    def _evaluate(self, c: Condition) -> None:
        assert self.store is not None
        cfg = self.config
        pending = self._pending(c)
        if not pending:
            return
        total = sum(len(self.splits[t][1]) for t in c.eval_tasks) * len(cfg.modes)
        left = sum(len(v) for v in pending.values()) * len(cfg.modes)
        backend, loaded = None, None
        try:
            if c.trained:
                adapter = Path(self.store.trained()[c.name]["adapter"])
                with self._stage(c.name, "model loading", 1):
                    loaded = self.stages.attach_adapter(self.stages.fresh_base(self.base(), cfg.model), adapter)
                    backend = self.stages.make_backend(loaded)
            else:
                backend = self.base_backend()
            with progress(total, f"evaluate {c.name} (examples x modes)", initial=total - left, enabled=cfg.progress) as bar:
                for t, todo in pending.items():
                    self._evaluate_task(c, t, todo, backend, bar)
        finally:
            if c.trained:
                _free(loaded)
                del backend, loaded

    def _evaluate_task(self, c: Condition, task: str, todo: Sequence[Example], backend: Any, bar: Any) -> None:
        assert self.store is not None
        cfg = self.config
        spec = self.specs[task]
        idx = {e.id: i for i, e in enumerate(self.splits[task][1])}
        preds = self.store.predictions(c.name, task)
        for chunk in _chunks(list(todo), cfg.eval_chunk):
            missing = [e for e in chunk if e.id not in preds]
            if missing:
                with self._stage(c.name, "evaluation", 0):
                    new = self.stages.predict(backend, spec, missing)
                self.store.put_predictions(c.name, task, new)
                preds.update(new)
            done = self.store.done_keys(c.name, task)
            for mode in cfg.modes:
                exs = [e for e in chunk if any((s, mode, e.id) not in done for s in c.eval_styles)]
                if not exs:
                    bar.update(len(chunk))
                    continue
                with self._stage(c.name, "evaluation", len(exs) * len(c.eval_styles)):
                    rows = self.stages.evaluate_styles(backend, spec, exs, c.eval_styles, mode, seed=cfg.seed,
                                                       predictions={e.id: _forced(spec, preds[e.id]) for e in exs}, task_name=task)
                with self._stage(c.name, "second view", len(rows)):
                    faith = self.stages.word_faithfulness(backend, spec, exs, rows, seed=cfg.seed, draws=cfg.draws)
                if len(faith) != len(rows):
                    raise ConfigError(f"{c.name}/{task}: the second view gave {len(faith)} records for {len(rows)} rows")
                self.store.put_checks(c.name, rows, idx, task=task, word_faith=faith)
                bar.update(len(chunk))
                self.on_event("chunk_stored", {"condition": c.name, "task": task, "mode": mode, "n": len(exs)})


def run_study(config: StudyConfig, *, stages: Stages | None = None, on_event: Event | None = None,
              notify: Callable[[str], None] | None = None, write_report: bool = True) -> Path:
    """Run (or resume) the study of ``config``; writes its tables and plots unless told not to.
    Returns the output directory."""
    out = Study(config, stages, on_event, notify).run()
    if write_report:
        from .report import write_study_report

        write_study_report(out)
    return out
