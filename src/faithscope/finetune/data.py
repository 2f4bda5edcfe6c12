"""Which examples train and which evaluate, and the check that the two never meet.

Evaluation examples are exactly those ``faithscope run`` would score with the same dataset,
``-n`` and seed (they are loaded through the runner's own loader); training examples come
from elsewhere:

* **e-SNLI** (``esnli``): evaluation = the e-SNLI *dev* rows with human highlights
  (``esnli/esnli_dev_highlights_first500.csv``; ``--eval-n`` of them drawn with ``--seed``,
  all 500 without it). Training = a seeded sample of ``--train-n`` pairs of the e-SNLI *test*
  split (dataset ``esnli-plain``: ``s1.test``/``s2.test``/``labels.test``, 9,824 pairs, no
  highlights), detokenised so that its text compares with the highlight CSV's.
* **FEVER** (``fever``): evaluation = the first :data:`FEVER_EVAL_RESERVE` (300) claims of
  ``fever/test.jsonl`` in file order, a fixed reserve (``--eval-n`` takes the first N of them;
  a larger ``--eval-n`` enlarges the reserve). Training = a seeded sample of the other claims of
  the same file.
* **MedicalBios** and the shipped **demo** set have no training split here: ``finetune``
  refuses them unless ``--train-file`` gives one (JSONL, one object per line with the task's
  fields and ``label``; see :func:`read_train_file`). A training file replaces the built-in
  training pool for any dataset.

Disjointness is checked on *normalised text*, not ids: the key of an example is its key
fields' words passed through :func:`~faithscope.data.words.normalize_word` (NFKC, case-folded,
punctuation stripped at both ends), with punctuation-only words dropped, so ``"church ."`` and
``"church."`` give the same key. Key fields: premise + hypothesis (e-SNLI), the claim (FEVER:
documents are shared by many claims, the claim is what is classified), the bio (MedicalBios).
Built-in training pools silently lose any example whose key equals an evaluation example's
(compared against the WHOLE evaluation pool, not only the drawn sample) and the count is
recorded; a user's training file that overlaps the evaluation pool is refused with the
offending lines named. On the shared data: 0 of 9,824 e-SNLI test pairs and 0 premises
collide with the 500 highlight rows; 5 FEVER claims outside the reserve repeat a reserve claim
and are dropped.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from ..data import load_dataset, normalize_word, split_words
from ..data.common import parse_json_object
from ..errors import ConfigError, DataError
from ..runs.config import RunConfig
from ..runs.runner import load_examples
from ..tasks import Task, load_task
from ..types import Example
from .presets import FinetuneConfig

FEVER_EVAL_RESERVE = 300
"""The first 300 claims of FEVER's test.jsonl are reserved for evaluation (never trained on)."""

KEY_FIELDS = {"esnli": ("premise", "hypothesis"), "fever": ("claim",), "medical_bios": ("bio",), "demo": ("premise", "hypothesis")}
TRAIN_POOLS = {"esnli": "esnli-plain", "fever": "fever"}


def text_key(example: Example, key_fields: Sequence[str] | None = None) -> str:
    """The normalised text an overlap is detected on (see the module docstring)."""
    names = key_fields or tuple(example.fields)
    words = (normalize_word(w) for name in names for w in example.fields.get(name, ()))
    return " ".join(w for w in words if any(ch.isalnum() for ch in w))


def key_fields_for(dataset: str, task: Task) -> tuple[str, ...]:
    return KEY_FIELDS.get(dataset, task.fields)


def overlaps(train: Iterable[Example], evaluation: Iterable[Example], key_fields: Sequence[str] | None = None) -> list[tuple[Example, Example]]:
    """``(training example, evaluation example)`` pairs whose normalised texts are equal."""
    by_key: dict[str, Example] = {}
    for e in evaluation:
        by_key.setdefault(text_key(e, key_fields), e)
    return [(t, by_key[k]) for t in train if (k := text_key(t, key_fields)) in by_key]


def check_disjoint(train: Iterable[Example], evaluation: Iterable[Example], key_fields: Sequence[str] | None = None) -> None:
    """Raise :class:`DataError` naming the first overlaps if any training example's
    normalised text equals an evaluation example's."""
    found = overlaps(train, evaluation, key_fields)
    if found:
        shown = "; ".join(f"{t.source or t.id} = evaluation {e.source or e.id}" for t, e in found[:3])
        more = f" (and {len(found) - 3} more)" if len(found) > 3 else ""
        raise DataError(found[0][0].source or "training data", None, None,
                        f"{len(found)} training example(s) have the same normalised text as evaluation examples: {shown}{more}; "
                        "training and evaluation data must be disjoint")


def read_train_file(path: str | Path, task: Task) -> list[Example]:
    """A user's training file: JSONL, one object per line with every field of the task
    (strings) and ``label`` (one of the task's labels); ``id`` is optional (default: line
    number). E.g. for ``medical_bios``: ``{"bio": "She is a ...", "label": "nurse"}``."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"--train-file {str(p)!r} does not exist")
    examples: list[Example] = []
    try:
        lines = p.read_text(encoding="utf-8").removeprefix("\ufeff").splitlines()
    except UnicodeDecodeError as e:
        raise DataError(str(p), None, None, f"not valid UTF-8 ({e.reason} at byte {e.start})") from None
    for line, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        rec = parse_json_object(raw, p, line)
        fields = {}
        for name in task.fields:
            value = rec.get(name)
            if not isinstance(value, str) or not value.split():
                raise DataError(str(p), line, name, f"missing or empty; task {task.name!r} needs fields {', '.join(task.fields)}")
            fields[name] = split_words(value)
        label = rec.get("label")
        if label not in task.labels:
            raise DataError(str(p), line, "label", f"unknown label {label!r}; expected one of {', '.join(task.labels)}")
        examples.append(Example(id=str(rec.get("id", f"train-{line}")), fields=fields, label=label, source=f"{p.name}:{line}"))
    if not examples:
        raise DataError(str(p), None, None, "no training examples in the file")
    return examples


@dataclass
class Split:
    """Training examples, the evaluation run's data settings, and how both were chosen."""

    train: list[Example]
    evaluation: list[Example]
    eval_n: int | None
    eval_first: bool
    task: Task
    notes: dict[str, object] = field(default_factory=dict)

    def describe(self) -> str:
        return "; ".join(f"{k}: {v}" for k, v in self.notes.items())


def eval_settings(config: FinetuneConfig) -> tuple[int | None, bool]:
    """``(n, first)`` of the per-epoch evaluation run (FEVER: the first N of the reserve)."""
    if config.dataset == "fever":
        return (config.eval_n or FEVER_EVAL_RESERVE), True
    return config.eval_n, False


def eval_run_config(config: FinetuneConfig, **extra) -> RunConfig:
    """The ``faithscope run`` configuration that evaluates one epoch."""
    n, first = eval_settings(config)
    return RunConfig(dataset=config.dataset, data_dir=config.data_dir, n=n, first=first, seed=config.seed,
                     min_annotators=config.min_annotators, methods=config.methods, model=config.model,
                     prompt_format=config.prompt_format, mask=config.mask, placeholder=config.placeholder, random_draws=config.random_draws,
                     max_new_tokens=config.max_new_tokens, attribution=config.attribution,
                     batch_size=config.eval_batch_size, max_batch_tokens=config.max_batch_tokens, progress=config.progress, **extra)


def build_split(config: FinetuneConfig) -> Split:
    """Choose training and evaluation examples for ``config`` and check they are disjoint."""
    evaluation, task_name, _ = load_examples(eval_run_config(config))
    task = load_task(task_name)
    key = key_fields_for(config.dataset, task)
    n, first = eval_settings(config)
    notes: dict[str, object] = {}
    if config.train_file:
        pool_all = _eval_pool(config, n)
        pool = read_train_file(config.train_file, task)
        check_disjoint(pool, pool_all, key)
        notes["training source"] = f"--train-file {config.train_file} ({len(pool)} examples)"
    else:
        if config.dataset not in TRAIN_POOLS:
            raise ConfigError(
                f"dataset {config.dataset!r} has no training split here; give one with --train-file FILE "
                f"(JSONL: one object per line with {', '.join(repr(f) for f in task.fields)} and 'label'), "
                "disjoint from the evaluation examples")
        pool_all = _eval_pool(config, n)
        if config.dataset == "fever":
            reserve = max(FEVER_EVAL_RESERVE, n or 0)
            claims = load_dataset("fever", config.data_dir).examples
            reserved_ids = {e.id for e in claims[:reserve]}
            candidates = [e for e in claims[reserve:] if e.id not in reserved_ids]
            notes["training source"] = f"fever/test.jsonl claims after the first {reserve} (the evaluation reserve)"
        else:
            candidates = load_dataset(TRAIN_POOLS[config.dataset], config.data_dir).examples
            notes["training source"] = "esnli-plain: e-SNLI test split (s1/s2/labels.test), detokenised"
        dropped = {id(t) for t, _ in overlaps(candidates, pool_all, key)}
        pool = [e for e in candidates if id(e) not in dropped]
        notes["dropped (same normalised text as an evaluation example)"] = len(dropped)
    if config.train_n < len(pool):
        chosen = sorted(random.Random(config.seed).sample(range(len(pool)), config.train_n))
        train = [pool[i] for i in chosen]
    else:
        train = list(pool)
        if config.train_n > len(pool):
            notes["note"] = f"asked for {config.train_n} training examples, only {len(pool)} available; using all"
    check_disjoint(train, pool_all, key)
    notes["training examples"] = len(train)
    notes["evaluation examples"] = len(evaluation)
    notes["evaluation source"] = _eval_description(config, n, first, len(pool_all))
    notes["disjointness key"] = "+".join(key)
    return Split(train=train, evaluation=evaluation, eval_n=n, eval_first=first, task=task, notes=notes)


def _eval_pool(config: FinetuneConfig, n: int | None) -> list[Example]:
    """Every example the evaluation may draw from (training must avoid all of them)."""
    options = {"min_annotators": config.min_annotators} if config.dataset == "esnli" else {}
    examples = load_dataset(config.dataset, config.data_dir, **options).examples
    if config.dataset == "fever":
        return examples[: max(FEVER_EVAL_RESERVE, n or 0)]
    return examples


def _eval_description(config: FinetuneConfig, n: int | None, first: bool, pool: int) -> str:
    if config.dataset == "fever":
        return f"first {n} claims of fever/test.jsonl (reserve of {pool})"
    how = f"seeded sample (seed {config.seed}) of {n}" if n else "all"
    return f"{config.dataset}: {how} of {pool} examples"
