"""The contract of a rationale method, and the per-batch context methods share.

A method turns a batch of :class:`RationaleRequest` (example, label to explain, k, purpose)
into one :class:`~faithscope.types.Rationale` each. Methods that read the same computation
(attention, saliency and Input x Gradient all come from one forward+backward) get it from
:class:`MethodContext`, which computes it once per (example, target label) and memoises it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Sequence

from ..errors import ModelError
from ..models.base import Budget, per_prompt_budgets
from ..models.gradients import DEFAULT_IG_STEPS, AttributionConfig, IGConfig
from ..tasks import Task
from ..tasks.fit import PromptBuilder
from ..types import Example, Purpose, Rationale
from .word_scores import WordScores, word_scores

MethodKind = Literal["prompting", "attribution", "baseline"]


@dataclass(frozen=True)
class RationaleRequest:
    """Explain ``label`` for ``example``; ``k`` = size of the human rationale (TOP-VAR)."""

    example: Example
    label: str
    k: int
    purpose: Purpose


@dataclass
class MethodOptions:
    """Settings that change rationales; stored with every result."""

    attribution: AttributionConfig = field(default_factory=AttributionConfig)
    seed: int = 0
    random_draws: int = 100
    max_new_tokens: int = 64
    ig_steps: int = DEFAULT_IG_STEPS

    @property
    def ig(self) -> IGConfig:
        """Integrated Gradients settings (steps from ``--ig-steps``; zero baseline, Gauss-Legendre)."""
        return IGConfig(steps=self.ig_steps)

    def as_dict(self) -> dict[str, Any]:
        return {"attribution": self.attribution.as_dict(), "seed": self.seed, "random_draws": self.random_draws, "max_new_tokens": self.max_new_tokens,
                "integrated_gradients": self.ig.as_dict()}


class MethodContext:
    """What methods may use for one batch: task, backend, prompt builder, shared passes."""

    def __init__(self, task: Task, backend: Any, prompts: PromptBuilder, options: MethodOptions, engine: Any = None):
        self.task, self.backend, self.prompts, self.options = task, backend, prompts, options
        self._engine = engine
        self._attr: dict[tuple[str, str], WordScores] = {}
        self._gen: dict[tuple[str, int, tuple[str, ...]], str] = {}
        self.timings: dict[str, float] = {}

    def attributions(self, requests: Sequence[RationaleRequest]) -> list[WordScores]:
        """Word scores of all three gradient/attention methods, one pass per missing target."""
        engine = self.gradient_engine()
        todo = {}
        for r in requests:
            key = (r.example.id, r.label)
            if key not in self._attr and key not in todo:
                todo[key] = r
        if todo:
            fitted = {key: self.prompts.attribution(r.example) for key, r in todo.items()}
            verbal = self.prompts.verbalizers()
            tokens = engine.attribute([f.text for f in fitted.values()], [verbal[r.label] for r in todo.values()], self.options.attribution)
            for (key, r), f, t in zip(todo.items(), fitted.values(), tokens):
                self._attr[key] = word_scores(t, f.word_spans, r.example.n_words, f.truncated_words)
        return [self._attr[(r.example.id, r.label)] for r in requests]

    def gradient_engine(self) -> Any:
        """The backend's :class:`~faithscope.models.gradients.GradientEngine` (made once)."""
        if not getattr(self.backend, "supports_gradients", False):
            raise ModelError(f"attention and gradient methods are unavailable: {self.backend.no_gradient_reason}")
        if self._engine is None:
            from ..models.gradients import GradientEngine

            self._engine = GradientEngine(self.backend)
        return self._engine

    def generate(self, prompts: Sequence[str], max_new_tokens: Budget, stop: Sequence[str] = ()) -> list[str]:
        """Greedy replies (one budget, or one per prompt; ``stop``: stop sequences for all),
        each distinct (prompt, budget, stops) generated once per batch, in one backend call."""
        stops = tuple(stop)
        keys = [(p, b, stops) for p, b in zip(prompts, per_prompt_budgets(max_new_tokens, len(prompts)))]
        todo = [k for k in dict.fromkeys(keys) if k not in self._gen]
        if todo:
            # no stop argument at all without stops: backends written before stops keep working
            kw = {"stop": list(stops)} if stops else {}
            replies = self.backend.generate([p for p, _, _ in todo], [b for _, b, _ in todo], **kw)
            self._gen.update(zip(todo, replies))
        return [self._gen[k] for k in keys]


class RationaleMethod(ABC):
    """Base class: subclass, set ``name``/``description``/``kind``, implement :meth:`explain`,
    and decorate with :func:`faithscope.methods.register`."""

    name: ClassVar[str]
    description: ClassVar[str]
    kind: ClassVar[MethodKind]
    needs_gradients: ClassVar[bool] = False

    @abstractmethod
    def explain(self, requests: Sequence[RationaleRequest], ctx: MethodContext) -> list[Rationale]:
        """One rationale per request, in order."""
