"""Disjoint training and evaluation examples per study task.

* a task whose training and evaluation datasets differ (``snli``: ``esnli-plain`` test split
  for training, ``esnli`` dev highlight rows for evaluation): ``eval_n`` evaluation examples
  are a seeded sample of the evaluation dataset; ``train_n`` training examples a seeded sample
  of the training dataset after dropping every example whose normalised text equals ANY
  evaluation-pool example's;
* a task with one pool (``agnews``, ``sentiment140``, ``demo``): the pool is shuffled with the
  seed; evaluation = the first ``eval_n`` of that order (so the evaluation set does not depend
  on ``train_n``); training = the next ``train_n`` whose normalised text is not an evaluation
  example's (AG News has repeated texts under different rows).

Both lists are returned in file order. Disjointness is then checked on normalised text
(:func:`faithscope.finetune.data.check_disjoint`, key = all task fields), as the fine-tuning
pipeline does; a pool too small for ``train_n + eval_n`` is a ConfigError naming the sizes.
"""

from __future__ import annotations

import random

from ..data import load_dataset
from ..errors import ConfigError
from ..finetune.data import check_disjoint, text_key
from ..types import Example
from .tasks import study_task


def _count(name: str, value: int, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{name} must be an integer >= {minimum}, got {value!r}")


def task_splits(task_name: str, data_dir: str | None, *, train_n: int, eval_n: int, seed: int = 0) -> tuple[list[Example], list[Example]]:
    """``(train, evaluation)`` examples of study task ``task_name`` (see the module docstring)."""
    _count("train_n", train_n, 0)
    _count("eval_n", eval_n, 1)
    task = study_task(task_name)
    eval_pool = load_dataset(task.eval_dataset, data_dir).examples
    rng = random.Random(seed)
    if task.train_dataset == task.eval_dataset:
        if train_n + eval_n > len(eval_pool):
            raise ConfigError(f"task {task_name!r}: {task.eval_dataset} has {len(eval_pool)} examples, "
                              f"fewer than --train-n {train_n} + --eval-n {eval_n}")
        order = rng.sample(range(len(eval_pool)), len(eval_pool))
        evaluation_idx = sorted(order[:eval_n])
        evaluation = [eval_pool[i] for i in evaluation_idx]
        keys = {text_key(e) for e in evaluation}
        train_idx = [i for i in order[eval_n:] if text_key(eval_pool[i]) not in keys][:train_n]
        train = [eval_pool[i] for i in sorted(train_idx)]
    else:
        if eval_n > len(eval_pool):
            raise ConfigError(f"task {task_name!r}: {task.eval_dataset} has {len(eval_pool)} examples, fewer than --eval-n {eval_n}")
        evaluation = [eval_pool[i] for i in sorted(rng.sample(range(len(eval_pool)), eval_n))]
        keys = {text_key(e) for e in eval_pool}
        candidates = [e for e in load_dataset(task.train_dataset, data_dir).examples if text_key(e) not in keys]
        if train_n > len(candidates):
            raise ConfigError(f"task {task_name!r}: {task.train_dataset} has {len(candidates)} examples disjoint "
                              f"from the evaluation pool, fewer than --train-n {train_n}")
        train = [candidates[i] for i in sorted(random.Random(seed + 1).sample(range(len(candidates)), train_n))]
    if len(train) < train_n:
        raise ConfigError(f"task {task_name!r}: only {len(train)} training examples are disjoint from the evaluation set, "
                          f"fewer than --train-n {train_n}")
    check_disjoint(train, evaluation)
    return train, evaluation
