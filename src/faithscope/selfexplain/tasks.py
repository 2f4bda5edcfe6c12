"""The study's task names -> where their data and prompts come from (the ONE place).

Doi et al. (2025) train and evaluate on SNLI, AG News and Sentiment140. Each study task names
the dataset its training examples are drawn from, the dataset its evaluation examples are
drawn from (the same dataset means one pool split in two, :mod:`.splits`) and the task file
holding its labels and ``[self_consistency]`` prompts. ``demo`` (the shipped NLI pairs) is
there for quick runs and tests without data.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError
from ..tasks import load_task
from .spec import SelfConsistencySpec, load_self_consistency


@dataclass(frozen=True)
class StudyTask:
    """One task of the self-explanation study."""

    name: str
    train_dataset: str
    eval_dataset: str
    task_file: str
    description: str


STUDY_TASKS: dict[str, StudyTask] = {t.name: t for t in (
    StudyTask("snli", "esnli-plain", "esnli", "esnli",
              "SNLI via e-SNLI: train from the test split's plain files, evaluate on the dev highlight rows"),
    StudyTask("agnews", "agnews", "agnews", "agnews", "AG News test split (4 topics), one pool split in two"),
    StudyTask("sentiment140", "sentiment140", "sentiment140", "sentiment140",
              "Sentiment140 hand-labelled tweets, positive/negative, one pool split in two"),
    StudyTask("demo", "demo", "demo", "demo", "the 48 shipped NLI pairs (no data directory needed), one pool split in two"),
)}
"""The study's tasks by name."""

PAPER_TASKS = ("snli", "agnews", "sentiment140")
"""The tasks of Doi et al. (2025), in table order."""


def study_task(name: str) -> StudyTask:
    """The study task ``name``, or a ConfigError listing the known ones."""
    try:
        return STUDY_TASKS[name]
    except KeyError:
        raise ConfigError(f"unknown self-explanation task {name!r}; known: {', '.join(STUDY_TASKS)}") from None


def task_spec(name: str) -> SelfConsistencySpec:
    """The ``[self_consistency]`` spec of study task ``name``."""
    return load_self_consistency(load_task(study_task(name).task_file))
