"""The resumable counterfactual-test runner: interventions, batched label scoring and batched
explanation generation, stored per batch of examples.

For each batch of examples not yet in the store:

1. draw each example's interventions (:class:`InterventionGenerator`, seeded per example id)
   and, for the ``human`` style, its demonstrations;
2. render the self-explanation prompt of the original and of every edited input;
3. ``pe``: score the labels of all distinct prompts in one ``score_labels`` call, then
   generate the explanations of all distinct edited prompts (after their predicted label) in
   one ``generate`` call; ``ep``: generate first, then score the labels after the
   explanations. Identical prompts are scored/generated once, and a backend that can
   (``supports_shared_prefix``: transformers) encodes the prompts' common token prefix (the
   instruction) once per call;
4. per intervention: TVD between the original and edited label distributions, whether the
   prediction changed, the parsed explanation, and whether it mentions the inserted word;
5. commit the batch in one transaction.

A rerun with the same configuration skips stored examples, so nothing is recomputed.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Sequence

from ..errors import ConfigError
from ..explanations import SelfExplanationPrompt, choose_demonstrations, generate_explanations, load_selfexplain
from ..metrics.counterfactual import total_variation
from ..models.base import Backend
from ..tasks import Task
from ..types import Example, LabelScores
from .interventions import DEFAULT_POSITIONS, DEFAULT_WORDS, Intervention, InterventionGenerator, apply
from .mentions import mentions
from .store import CounterfactualStore, ExampleRow, InterventionRow

log = logging.getLogger(__name__)

#: ``--dataset`` names of the counterfactual command -> registered dataset (e-SNLI: the test
#: split's plain files, which carry the three free-text explanations of every pair).
DATASET_ALIASES = {"esnli": "esnli-plain"}
HUMAN_STYLE_DATASETS = ("esnli", "comve", "ecqa")


@dataclass
class CounterfactualConfig:
    """Everything that determines a counterfactual run's results (stored; a rerun must match)."""

    dataset: str = "demo"
    n: int | None = None
    seed: int = 0
    style: str = "instruction"
    order: str = "pe"
    positions: int = DEFAULT_POSITIONS
    words: int = DEFAULT_WORDS
    demonstrations: int = 3
    inflections: bool = False
    max_new_tokens: int | None = None
    """Explanation token budget (None = the task file's ``[selfexplain] max_new_tokens``)."""
    model: dict[str, Any] = field(default_factory=dict)
    """The backend's identity (model name, adapter, ...), so that a run dir holds one model."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CounterfactualRunner:
    """Runs one configuration into one store; call :meth:`run`."""

    config: CounterfactualConfig
    backend: Backend
    task: Task
    examples: Sequence[Example]
    store: CounterfactualStore
    generator: InterventionGenerator
    demo_pool: Sequence[Example] = ()
    batch_size: int = 8
    on_batch: Callable[[int, int], None] | None = None

    def __post_init__(self) -> None:
        self.spec = load_selfexplain(self.task)
        self.prompt = SelfExplanationPrompt(self.spec, self.task, order=self.config.order, style=self.config.style)
        if self.config.style == "human" and not any(e.explanations for e in self.demo_pool):
            raise ConfigError(f"--style human needs human explanations; dataset {self.config.dataset!r} has none "
                              f"(use one of {', '.join(HUMAN_STYLE_DATASETS)}, or --style instruction)")
        if isinstance(self.batch_size, bool) or not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise ConfigError(f"--batch-size must be a positive integer, got {self.batch_size!r}")
        self.budget = self.config.max_new_tokens or self.spec.max_new_tokens
        self.store.check_or_set_config(self.config.as_dict(), getattr(self.backend, "identity", {}))
        self.seconds = {"score": 0.0, "generate": 0.0}

    # -- one batch ----------------------------------------------------------------------------
    def _score(self, prompts: list[str]) -> dict[str, LabelScores]:
        """Label distributions of the distinct prompts in one backend call. A server backend
        (``score_labels_detailed``) gives log-probabilities where it can and otherwise the label
        parsed from its reply: a one-hot distribution (``source="generation"``), or
        ``source="unparseable"`` (no label) — so φ-CCT works on any server."""
        distinct = list(dict.fromkeys(prompts))
        t = time.perf_counter()
        if not distinct:
            scores: list[LabelScores] = []
        elif hasattr(self.backend, "score_labels_detailed"):
            scores = [_from_server(r, self.task.labels) for r in self.backend.score_labels_detailed(distinct, self.task.verbalizers)]
        elif getattr(self.backend, "supports_shared_prefix", False):  # the instruction is encoded once per call
            scores = self.backend.score_labels(distinct, self.task.verbalizers, shared_prefix=True)
        else:
            scores = self.backend.score_labels(distinct, self.task.verbalizers)
        self.seconds["score"] += time.perf_counter() - t
        return dict(zip(distinct, scores))

    def _explain(self, prompts: list[str]):
        t = time.perf_counter()
        out = generate_explanations(self.backend, prompts, self.task.labels, max_new_tokens=self.budget,
                                    stop=list(self.spec.stop), order=self.config.order, shared_prefix=True)
        self.seconds["generate"] += time.perf_counter() - t
        return out

    def run_batch(self, batch: Sequence[tuple[int, Example]]) -> None:
        plans: list[tuple[int, Example, str, list[tuple[Intervention, str]]]] = []
        for idx, ex in batch:
            demos = (choose_demonstrations(self.demo_pool, ex, self.config.demonstrations, self.config.seed)
                     if self.config.style == "human" else [])
            base = self.prompt.render(ex, demos)
            edits = [(iv, self.prompt.render(apply(ex, iv), demos)) for iv in self.generator.generate(ex)]
            plans.append((idx, ex, base, edits))

        all_prompts = [p for _, _, base, edits in plans for p in [base, *(e for _, e in edits)]]
        expl: dict[str, Any] = {}
        if self.config.order == "pe":
            scores = self._score(all_prompts)
            gen_prompts = [self.prompt.explanation_prompt(p, scores[p].predicted or self.task.labels[0]) for p in all_prompts]
            for p, r in zip(all_prompts, self._explain(gen_prompts)):
                expl[p] = r
        else:
            replies = self._explain(all_prompts)
            for p, r in zip(all_prompts, replies):
                expl[p] = r
            label_prompts = [self.prompt.label_prompt(p, expl[p].parsed.explanation) for p in all_prompts]
            by_label = self._score(label_prompts)
            scores = {p: by_label[lp] for p, lp in zip(all_prompts, label_prompts)}

        ex_rows: list[ExampleRow] = []
        iv_rows: list[InterventionRow] = []
        for idx, ex, base, edits in plans:
            orig = scores[base]
            for iv, p in edits:
                s = scores[p]
                r = expl[p]
                text = r.parsed.explanation
                iv_rows.append(InterventionRow(
                    example_id=ex.id, ikey=iv.key, field=iv.field, word_index=iv.index, word=iv.word, kind=iv.kind,
                    predicted=s.predicted, probs=s.probs, tvd=total_variation(orig.probs, s.probs),
                    changed=bool(s.predicted and orig.predicted and s.predicted != orig.predicted), explanation=text, raw_reply=r.raw, failure=r.parsed.failure,
                    mention=mentions(text, iv.word, inflections=self.config.inflections), n_words=r.parsed.n_words))
            ex_rows.append(ExampleRow(ex.id, idx, ex.label, orig.predicted, orig.probs, expl[base].parsed.explanation
                                      if base in expl else None, len(edits), edits[0][0].field if edits else None))
        self.store.write_batch(ex_rows, iv_rows)

    def run(self) -> int:
        """Process every example not yet stored; returns how many were processed now."""
        done = self.store.done_ids()
        todo = [(i, ex) for i, ex in enumerate(self.examples) if ex.id not in done]
        for start in range(0, len(todo), self.batch_size):
            self.run_batch(todo[start:start + self.batch_size])
            if self.on_batch is not None:
                self.on_batch(min(start + self.batch_size, len(todo)), len(todo))
        return len(todo)


def _from_server(result: Any, labels: Sequence[str]) -> LabelScores:
    """A :class:`LabelScores` from a server's :class:`ServerLabelResult`."""
    if result.scores is not None:
        return result.scores
    inf = float("-inf")
    if result.label is None:
        return LabelScores(tuple(labels), tuple(inf for _ in labels), source="unparseable")
    return LabelScores(tuple(labels), tuple(0.0 if lab == result.label else inf for lab in labels), source="generation")
