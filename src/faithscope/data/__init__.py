"""Datasets: loaders for the published files, a registry, and sampling.

``load_dataset(name, data_dir)`` returns a :class:`LoadedDataset` whose ``examples`` are
:class:`~faithscope.types.Example` records: words per field, the gold label, the default human
rationale as global word positions, per-annotator rationales and free-text explanations where
the data has them. Each dataset has one loader module; ``DATASETS`` maps its name to the task it
is scored with and that loader. Third-party data is read from a directory given by the user
(``data_dir`` or ``FAITHSCOPE_DATA``); only the hand-written ``demo`` set ships with the package.
"""

from __future__ import annotations

import inspect
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from ..errors import ConfigError, DataError
from ..types import Example
from . import ag_news, comve, demo, ecqa, eraser, esnli, esnli_plain, fever, medical_bios, sentiment140, user_file
from .common import DATA_ENV, HOW_TO_POINT, ErrorHandler
from .stats import random_baseline_expectation
from .words import normalize_word, split_words

if TYPE_CHECKING:
    from ..tasks import Task

__all__ = [
    "DATASETS", "DatasetSpec", "LoadedDataset", "dataset_spec", "list_datasets", "load_dataset",
    "normalize_word", "split_words", "random_baseline_expectation",
]


class Loader(Protocol):
    def __call__(self, data_dir: str | os.PathLike[str] | None, *, on_error: ErrorHandler | None = ...,
                 **options: Any) -> list[Example]: ...


class DatasetSpec(NamedTuple):
    """A registered dataset: the task it is scored with, its loader, and where its files live."""

    task: str | None
    """The built-in task it is scored with; ``None``: the user names one (``--task``)."""
    loader: Loader
    subdir: str | None
    """Folder under the data directory; ``None`` = needs no data dir (shipped with faithscope, or a
    ``--data-file``); ``""`` = the data directory IS the dataset's folder (an ERASER directory)."""
    description: str


DATASETS: dict[str, DatasetSpec] = {
    "esnli": DatasetSpec("esnli", esnli.load, "esnli",
                         "e-SNLI with word highlights (esnli/*highlights*.csv; here dev rows 1-500)"),
    "esnli-plain": DatasetSpec("esnli", esnli_plain.load, "esnli",
                               "e-SNLI test split as plain text files, no highlights (for fine-tuning)"),
    "fever": DatasetSpec("fever", fever.load, "fever", "FEVER in ERASER form with evidence-span rationales"),
    "medical_bios": DatasetSpec("medical_bios", medical_bios.load, "medical_bios",
                                "MedicalBios: 113 bios, majority vote of the kept annotators"),
    "demo": DatasetSpec("demo", demo.load, None, "48 hand-written NLI pairs shipped with faithscope"),
    "comve": DatasetSpec("comve", comve.load, "comve",
                         "ComVE subtask A (which sentence is against common sense), subtask C reasons"),
    "ecqa": DatasetSpec("ecqa", ecqa.load, "ecqa", "ECQA: CommonsenseQA questions with free-text explanations"),
    "agnews": DatasetSpec("agnews", ag_news.load, "ag_news",
                          "AG News test split: 7,600 news articles, 4 topics (entities and line breaks repaired)"),
    "sentiment140": DatasetSpec("sentiment140", sentiment140.load, "sentiment140",
                                "Sentiment140 hand-labelled test tweets, positive/negative (neutral dropped by default)"),
    "eraser": DatasetSpec(None, eraser.load, "", "any ERASER-format directory (--data-dir DIR --task NAME|FILE.toml [--split])"),
    "file": DatasetSpec(None, user_file.load, None, "your own JSONL/CSV/Parquet file (--data-file FILE --task NAME|FILE.toml)"),
}
"""``eraser`` and ``file`` need a task (docs/own-data.md); the others carry their built-in one."""


@dataclass
class LoadedDataset:
    """Examples of one dataset, with what was skipped and how they were chosen."""

    examples: list[Example]
    task: str
    dataset: str
    skipped: int = 0
    skipped_reasons: list[str] = field(default_factory=list)
    path: str = ""
    note: str = ""
    """Anything the user should know about the selection (e.g. fewer examples than asked)."""


def list_datasets() -> list[str]:
    """Names accepted by :func:`load_dataset`, sorted."""
    return sorted(DATASETS)


def dataset_spec(name: str) -> DatasetSpec:
    """The registered dataset ``name``, or a ConfigError listing the known ones."""
    spec = DATASETS.get(name)
    if spec is None:
        raise ConfigError(f"unknown dataset {name!r}; known datasets: {', '.join(list_datasets())}")
    return spec


def load_dataset(
    name: str,
    data_dir: str | os.PathLike[str] | None = None,
    *,
    n: int | None = None,
    seed: int = 0,
    first: bool = False,
    skip_invalid: bool = False,
    task: "Task | None" = None,
    **options: Any,
) -> LoadedDataset:
    """Load a registered dataset and optionally take ``n`` of its examples.

    ``data_dir`` (default: ``$FAITHSCOPE_DATA``) is the folder holding ``esnli/``, ``fever/``,
    ``medical_bios/`` (or the dataset's own folder). ``n`` draws a seeded random sample
    (``random.Random(seed).sample`` over the full list) kept in file order; ``first=True``
    takes the first ``n`` in file order instead. Asking for more than there are gives all of
    them and says so in ``note``. Without ``skip_invalid`` the first malformed record raises a
    :class:`DataError` naming file, line and field; with it, malformed records are counted in
    ``skipped`` and their messages kept in ``skipped_reasons``. ``options`` go to the loader
    (e.g. ``min_annotators=3`` for ``esnli``, ``aggregation="any"`` for ``medical_bios``,
    ``path=`` for ``file``, ``split=`` for ``eraser``). ``task`` (a :class:`~faithscope.tasks.Task`)
    is required by ``eraser`` and ``file``, which build their fields from it; for the others it
    replaces the built-in task, and the examples' fields and labels must fit it.
    """
    spec = dataset_spec(name)
    _check_options(name, spec.loader, options)
    takes_task = "task" in inspect.signature(spec.loader).parameters
    if takes_task:
        if task is None:
            raise ConfigError(f"dataset {name!r} needs a task: pass --task NAME or --task FILE.toml (see docs/own-data.md)")
        options["task"] = task
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise ConfigError(f"n must be a positive integer, got {n!r}")

    root = _data_root(name, spec, data_dir)
    reasons: list[str] = []

    def on_error(error: DataError) -> None:
        reasons.append(str(error))

    examples = spec.loader(root, on_error=on_error if skip_invalid else None, **options)
    if spec.subdir is None:
        path = str(options.get("path") or demo.DEMO_FILE)
    elif spec.subdir == "":
        path = str(root)
    else:
        path = str(_dataset_path(root, spec.subdir))
    if task is not None and not takes_task:
        check_fits_task(name, examples, task)
    selected, note = _select(examples, n, seed, first)
    return LoadedDataset(examples=selected, task=task.name if task is not None else str(spec.task), dataset=name, skipped=len(reasons),
                         skipped_reasons=reasons, path=path, note=note)


def check_fits_task(name: str, examples: list[Example], task: "Task") -> None:
    """A built-in dataset read with another task (``--dataset fever --task mine.toml``): the
    task must name the dataset's fields in its order and cover its labels."""
    if not examples:
        return
    have = examples[0].field_names
    if have != tuple(task.fields):
        raise ConfigError(f"task {task.name!r} has fields {list(task.fields)} but dataset {name!r} gives {list(have)}; "
                          "a task for this dataset must use those fields in that order")
    unknown = sorted({e.label for e in examples} - set(task.labels))
    if unknown:
        raise ConfigError(f"dataset {name!r} has label(s) {unknown} that task {task.name!r} does not have (its labels: {', '.join(task.labels)})")


def _check_options(name: str, loader: Loader, options: dict[str, Any]) -> None:
    allowed = [p for p in inspect.signature(loader).parameters if p not in ("data_dir", "on_error", "task")]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ConfigError(f"dataset {name!r} has no option {', '.join(map(repr, unknown))}; "
                          f"its options: {', '.join(allowed) or 'none'}")


def _data_root(name: str, spec: DatasetSpec, data_dir: str | os.PathLike[str] | None) -> Path | None:
    if spec.subdir is None:
        return None
    if spec.subdir == "" and data_dir is None:
        raise ConfigError(f"dataset {name!r} reads the directory given by --data-dir DIR")
    if data_dir is None:
        env = os.environ.get(DATA_ENV)
        if not env:
            raise ConfigError(f"dataset {name!r} needs a data directory holding {spec.subdir}/: {HOW_TO_POINT}")
        data_dir = env
    root = Path(data_dir).expanduser()
    if not root.is_dir():
        raise ConfigError(f"data directory {root} for dataset {name!r} does not exist: {HOW_TO_POINT}")
    return root


def _dataset_path(root: Path | None, subdir: str) -> Path:
    if root is not None and (root / subdir).is_dir():
        return root / subdir
    return root if root is not None else Path(subdir)


def _select(examples: list[Example], n: int | None, seed: int, first: bool) -> tuple[list[Example], str]:
    if n is None:
        return list(examples), ""
    if n >= len(examples):
        note = f"asked for {n} examples but only {len(examples)} are available; using all of them" \
            if n > len(examples) else ""
        return list(examples), note
    if first:
        return list(examples[:n]), ""
    chosen = sorted(random.Random(seed).sample(range(len(examples)), n))
    return [examples[i] for i in chosen], ""
