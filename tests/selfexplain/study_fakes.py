"""Fake model-facing stages for the study tests: deterministic, fast, and counting every
piece of work, so that a resumed study can be shown to redo nothing."""

from __future__ import annotations

import dataclasses
import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from faithscope.data import load_dataset
from faithscope.models.loading import LoadedModel
from faithscope.selfexplain.spec import load_self_consistency
from faithscope.selfexplain.study import Stages
from faithscope.selfexplain.types import CheckRow, PseudoResult, TrainItem
from faithscope.tasks import load_task
from faithscope.types import Example, LabelScores


@dataclass(frozen=True)
class FakeSettings:
    epochs: int = 2
    seed: int = 0
    replay: int = 0


PRESETS = {"cpu": FakeSettings(), "paper": FakeSettings(epochs=3)}


def _u(*parts: object) -> float:
    """A deterministic number in [0, 1) from its parts."""
    h = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(h[:8], "big") / 2**64


@dataclass
class FakeBackend:
    tag: str
    work: Counter

    @property
    def identity(self) -> dict[str, str]:
        return {"name": "fake", "tag": self.tag}


@dataclass
class FakeModel:
    tag: str = "base"


@dataclass
class Work:
    """What the fake stages did, across runs (shared by the stages of one test)."""

    counts: Counter = field(default_factory=Counter)
    evaluated: list[tuple[str, str, str, str]] = field(default_factory=list)
    """(backend tag, style, mode, example id) of every check computed."""
    epochs: list[tuple[str, int]] = field(default_factory=list)
    train_hook: Callable[[Path, int], None] | None = None
    replies: Callable[[str, str, str, str], str] | None = None


def demo_splits(n_train: int, n_eval: int, offset: int = 0) -> tuple[list[Example], list[Example]]:
    examples = load_dataset("demo").examples[offset:]
    return list(examples[:n_train]), list(examples[n_train:n_train + n_eval])


def make_stages(work: Work, tasks: Sequence[str] = ("demo", "demo2")) -> Stages:
    spec = load_self_consistency(load_task("demo"))

    def splits(task: str, data_dir: str | None, *, train_n: int, eval_n: int, seed: int = 0):
        return demo_splits(train_n, eval_n, 0 if task == "demo" else 24)  # other tasks: other examples

    def load_model(model_spec: Any) -> LoadedModel:
        work.counts["load_model"] += 1
        return LoadedModel(FakeModel(), None, model_spec, {"name": "fake"}, 2048)

    def fresh_base(base: LoadedModel, model_spec: Any) -> LoadedModel:
        work.counts["fresh_base"] += 1
        return dataclasses.replace(base, model=FakeModel())

    def attach(loaded: LoadedModel, adapter: Path) -> LoadedModel:
        work.counts["attach"] += 1
        return dataclasses.replace(loaded, model=FakeModel(tag=Path(adapter).parent.name), identity={"adapter": str(adapter)})

    def make_backend(loaded: LoadedModel) -> FakeBackend:
        work.counts["make_backend"] += 1
        return FakeBackend(loaded.model.tag, work.counts)

    def predict(backend: FakeBackend, s: Any, examples: Sequence[Example]) -> dict[str, LabelScores]:
        work.counts["predict"] += len(examples)
        labels = tuple(s.task.labels)
        out = {}
        for e in examples:
            lp = tuple(-3 * _u(backend.tag, "pred", e.id, lab) for lab in labels)
            out[e.id] = LabelScores(labels, lp)
        return out

    def evaluate(backend: FakeBackend, s: Any, examples: Sequence[Example], styles: Sequence[str], mode: str, *, seed: int = 0,
                 predictions: Mapping[str, LabelScores] | None = None, task_name: str | None = None) -> list[CheckRow]:
        assert predictions is not None and set(predictions) == {e.id for e in examples}
        assert task_name in tasks  # rows carry the study's task name
        work.counts["evaluate_calls"] += 1
        rows = []
        for style in styles:
            for e in examples:
                work.evaluated.append((backend.tag, style, mode, e.id))
                u = _u(backend.tag, style, mode, e.id)
                pred = predictions[e.id].predicted
                failure = "no word of the input" if u < 0.15 else None
                faithful = None if failure else u > 0.5
                reply = work.replies(backend.tag, style, mode, e.id) if work.replies else f"reply {e.id}"
                rows.append(CheckRow(example_id=e.id, task=task_name, style=style, mode=mode, gold=e.label, predicted=pred,
                                     target=None, reply=reply, explanation="w", failure=failure,
                                     recheck=None if failure else ("unknown" if faithful else pred), faithful=faithful,
                                     correct=pred == e.label, n_changed=1))
        return rows

    def word_faith(backend: FakeBackend, s: Any, examples: Sequence[Example], rows: Sequence[CheckRow], *, seed: int = 0,
                   draws: int = 10) -> list[dict]:
        work.counts["word_faith"] += len(rows)
        return [{"flip": None if r.failure else _u("f", backend.tag, r.example_id, r.style) > 0.5,
                 "random_flip": None if r.failure else 0.25, "prob_drop": None if r.failure else 0.1,
                 "random_prob_drop": None if r.failure else 0.05, "n_words": 1} for r in rows]

    def build_pseudo(loaded: LoadedModel, backend: FakeBackend, s: Any, examples: Sequence[Example], styles: Sequence[str], *,
                     predicted: Mapping[str, str], method: str = "input_x_gradient", top_m: int = 5, seed: int = 0,
                     timings: dict | None = None) -> PseudoResult:
        work.counts["pseudo"] += len(examples)
        if timings is not None:
            timings["attribution"] = 0.01
        items, drops = [], Counter()
        for e in examples:
            for style in styles:
                if _u("drop", e.id, style) < 0.3:
                    drops[f"{style}: fails own check"] += 1
                    continue
                items.append(TrainItem(e.id, s.task.name, style, f"explain {style} {e.id}", " word"))
        return PseudoResult(items=items, drops=drops, chosen={e.id: {"word": "w"} for e in examples})

    def training_mix(pseudo: PseudoResult, classification: Sequence[tuple[Any, Example]], *, replay: int = 0, seed: int = 0) -> list[TrainItem]:
        return list(pseudo.items) + [TrainItem(e.id, sp.task.name, "classification", "classify", " yes") for sp, e in classification]

    def train(loaded: LoadedModel, items: Sequence[TrainItem], settings: Any, output_dir: Path, *, progress: bool = True) -> list[Path]:
        work.counts["train_calls"] += 1
        out = []
        for epoch in range(1, settings.epochs + 1):
            d = Path(output_dir) / f"epoch_{epoch}"
            if not (d / "done").is_file():
                work.epochs.append((Path(output_dir).name, epoch))
                d.mkdir(parents=True, exist_ok=True)
                (d / "done").write_text(str(len(items)))
                if work.train_hook is not None:
                    work.train_hook(Path(output_dir), epoch)
            out.append(d)
        return out

    return Stages(known_tasks=lambda: list(tasks) + ["demo3"], load_spec=lambda t: spec, task_splits=splits, load_model=load_model,
                  fresh_base=fresh_base, attach_adapter=attach, make_backend=make_backend, predict=predict, build_pseudo=build_pseudo,
                  training_mix=training_mix, train=train, evaluate_styles=evaluate, word_faithfulness=word_faith)
