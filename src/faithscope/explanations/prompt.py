"""Self-explanation prompts, rendered from the ``[selfexplain]`` table of a task file.

The table holds ``input`` (a template showing the task's fields), ``instruction_pe`` and
``instruction_ep`` (what to do, for each order), ``stop`` (stop sequences of every
explanation generation) and ``max_new_tokens`` (the explanation's token budget). Layout:

* predict-then-explain (``pe``): ``{instruction}\\n\\n{demos}{input}\\nLabel:`` — the label is
  scored there; the explanation is generated after ``Label: <label>\\nExplanation:``;
* explain-then-predict (``ep``): ``{instruction}\\n\\n{demos}{input}\\nExplanation:`` — the
  explanation is generated; the label is scored after ``<explanation>\\nLabel:``.

Styles: ``instruction`` (zero-shot, no demos) and ``human`` (k demonstrations whose
explanations are the dataset's first human explanation, chosen by :func:`choose_demonstrations`).
Field words are inserted with :func:`faithscope.tasks.render.render`, so an edited example
changes only field words, never the instruction.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..errors import ConfigError
from ..tasks import Task, read_task_table
from ..tasks.render import render
from ..types import Example

ORDERS = ("pe", "ep")
STYLES = ("instruction", "human")
LABEL_CUE = "Label:"
EXPLANATION_CUE = "Explanation:"


@dataclass(frozen=True)
class SelfExplainSpec:
    """The ``[selfexplain]`` table of one task."""

    task: str
    input: str
    instructions: dict[str, str]
    stop: tuple[str, ...]
    max_new_tokens: int
    editable_fields: tuple[str, ...]
    """``[counterfactual] fields``: the fields interventions may edit (default: all)."""


def load_selfexplain(task: Task) -> SelfExplainSpec:
    """Read and check the ``[selfexplain]`` (and optional ``[counterfactual]``) tables of ``task``."""
    path = Path(task.path)
    table, raw = read_task_table(task, "selfexplain", "self-explanation prompts")
    for key in ("input", "instruction_pe", "instruction_ep"):
        if not isinstance(table.get(key), str) or not table[key].strip():
            raise ConfigError(f"{path}: [selfexplain] needs a non-empty string {key!r}")
    used = {f for _, f, _, _ in string.Formatter().parse(table["input"]) if f}
    if used != set(task.fields):
        raise ConfigError(f"{path}: [selfexplain] input must show exactly the fields {list(task.fields)}, shows {sorted(used)}")
    stop = table.get("stop", [])
    if not isinstance(stop, list) or not all(isinstance(s, str) and s for s in stop):
        raise ConfigError(f"{path}: [selfexplain] stop must be a list of non-empty strings")
    budget = table.get("max_new_tokens", 64)
    if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
        raise ConfigError(f"{path}: [selfexplain] max_new_tokens must be a positive integer")
    cf = raw.get("counterfactual", {})
    fields = tuple(cf.get("fields", task.fields)) if isinstance(cf, dict) else task.fields
    bad = [f for f in fields if f not in task.fields]
    if bad or not fields:
        raise ConfigError(f"{path}: [counterfactual] fields {bad or fields} are not fields of the task {list(task.fields)}")
    return SelfExplainSpec(task=task.name, input=table["input"],
                           instructions={"pe": table["instruction_pe"].strip(), "ep": table["instruction_ep"].strip()},
                           stop=tuple(stop), max_new_tokens=budget, editable_fields=fields)


def choose_demonstrations(pool: Sequence[Example], example: Example, k: int, seed: int) -> list[Example]:
    """``k`` demonstrations for ``example``: seeded per example id, never the example itself,
    only pool examples that have a human explanation."""
    candidates = [e for e in pool if e.id != example.id and e.explanations and e.explanations[0].strip()]
    if len(candidates) < k:
        raise ConfigError(f"the human style needs {k} demonstrations with human explanations; "
                          f"only {len(candidates)} are available")
    return random.Random(f"{seed}:demos:{example.id}").sample(candidates, k)


@dataclass(frozen=True)
class SelfExplanationPrompt:
    """Renders the self-explanation prompt of one task, order and style."""

    spec: SelfExplainSpec
    task: Task
    order: str = "pe"
    style: str = "instruction"

    def __post_init__(self) -> None:
        if self.order not in ORDERS:
            raise ConfigError(f"--order must be one of {', '.join(ORDERS)}, got {self.order!r}")
        if self.style not in STYLES:
            raise ConfigError(f"--style must be one of {', '.join(STYLES)}, got {self.style!r}")

    def _input(self, example: Example) -> str:
        return render(self.spec.input, example).text

    def _demo(self, demo: Example) -> str:
        label = self.task.verbalizer(demo.label).strip()
        expl = " ".join(demo.explanations[0].split())
        if self.order == "pe":
            return f"{self._input(demo)}\n{LABEL_CUE} {label}\n{EXPLANATION_CUE} {expl}\n\n"
        return f"{self._input(demo)}\n{EXPLANATION_CUE} {expl}\n{LABEL_CUE} {label}\n\n"

    def render(self, example: Example, demonstrations: Sequence[Example] = ()) -> str:
        """The prompt up to the first cue (``Label:`` for pe, ``Explanation:`` for ep)."""
        demos = "".join(self._demo(d) for d in demonstrations)
        cue = LABEL_CUE if self.order == "pe" else EXPLANATION_CUE
        return f"{self.spec.instructions[self.order]}\n\n{demos}{self._input(example)}\n{cue}"

    def explanation_prompt(self, prompt: str, label: str) -> str:
        """pe: continue after the scored ``label`` to get the explanation."""
        return f"{prompt}{self.task.verbalizer(label)}\n{EXPLANATION_CUE}"

    def label_prompt(self, prompt: str, explanation: str) -> str:
        """ep: where the label is scored, after the generated explanation."""
        return f"{prompt} {explanation}\n{LABEL_CUE}"
