"""Continual learning on pseudo-faithful explanations: the training mix and the LoRA training.

**The mix** (:func:`training_mix`) has three kinds of :class:`~.types.TrainItem`:

* the explanation items of :func:`.pseudo.build_pseudo_explanations` (prompt = the style's
  one-word explanation prompt, target = the answer);
* plain **classification** instructions, so that task accuracy does not collapse while the
  model learns to explain: prompt = the task's self-consistency classify prompt
  (:meth:`SelfConsistencySpec.classify_prompt`, the prompt the study's accuracy is measured
  on), target = the gold label's verbalizer. With ``classification_share`` they are a seeded
  sample making up that share of explanations + classification (all of them when there are
  fewer); without it, all the given pairs;
* optional **replay** of generic instruction data: ``replay`` pairs drawn (seeded, cycling
  when more are asked than there are) from ``replay.jsonl`` next to this module — 30 short
  instruction/answer pairs the faithscope authors wrote for this purpose (no third-party
  data), rendered as ``"<instruction>\\n\\nAnswer:"`` → ``" <answer>"``.

**Training** (:func:`train_selfexplain`) reuses :class:`faithscope.finetune.trainer.LoraTrainer`:
each item is encoded as :class:`~faithscope.finetune.trainer.Encoded` ``(prompt ids, target
ids)`` with the loss on the target ids only. Encoding (:func:`encode_item`) tokenises
``prompt + target + suffix`` ONCE and splits it where the prompt's own tokens stop matching,
so the concatenation of the two parts is exactly the tokenisation of the whole text (a token
that straddles the boundary belongs to the target). ``settings.target_suffix`` (``"\\n"``)
teaches the model to end its reply where the explanation prompts' stop string cuts it.

Output directory::

    OUT/adapters/epoch_E/          LoRA adapter after epoch E (adapter_model.safetensors)
    OUT/training_state/            optimizer moments, RNG and step of the last epoch (resume)
    OUT/selfexplain_train.json     settings, item hash, model identity, trained_epoch, losses

After a kill, rerunning with the same settings and items resumes after the last finished
epoch (weights, optimizer, step and RNG restored; each epoch shuffles and seeds dropout from
``(seed, epoch)``; the frozen-layer cache is filled in item order first), so the final adapter
equals that of an uninterrupted run exactly. Other settings,
items or base model in the same directory are refused (a ConfigError naming the difference).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Sequence

from ..errors import ConfigError
from ..finetune.trainer import Encoded, LoraTrainer, adapter_dir
from ..models.loading import LoadedModel
from ..runs.progress import progress as progress_bar
from ..types import Example
from .presets import TrainSettings
from .spec import SelfConsistencySpec
from .types import PseudoResult, TrainItem

STATE_FILE = "selfexplain_train.json"
REPLAY_FILE = "replay.jsonl"

Hook = Callable[[int], None]
"""Called with E after epoch E is trained, saved and recorded (tests simulate a kill here)."""


@dataclass(frozen=True)
class ReplayPair:
    """One generic instruction/answer pair of the shipped replay file."""

    instruction: str
    answer: str


def replay_pairs() -> list[ReplayPair]:
    """The shipped replay pairs, in file order."""
    text = resources.files(__package__).joinpath(REPLAY_FILE).read_text(encoding="utf-8")
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        obj = json.loads(line)
        if not isinstance(obj, dict) or not isinstance(obj.get("instruction"), str) or not isinstance(obj.get("answer"), str):
            raise ConfigError(f"{REPLAY_FILE}:{n}: needs string fields instruction and answer")
        out.append(ReplayPair(obj["instruction"], obj["answer"]))
    return out


def replay_items(n: int, seed: int = 0) -> list[TrainItem]:
    """``n`` replay items: the pairs in a seeded order, cycled (reshuffled) when ``n`` exceeds them."""
    pairs = replay_pairs()
    rng = random.Random(f"replay:{seed}")
    out: list[TrainItem] = []
    rounds = 0
    while len(out) < n:
        order = list(range(len(pairs)))
        rng.shuffle(order)
        for i in order[: n - len(out)]:
            p = pairs[i]
            out.append(TrainItem(example_id=f"replay-{i + 1}" + (f"-{rounds}" if rounds else ""), task="replay", kind="replay",
                                 prompt=f"{p.instruction}\n\nAnswer:", target=" " + p.answer))
        rounds += 1
    return out


def classification_item(spec: SelfConsistencySpec, example: Example) -> TrainItem:
    """The plain classification instruction of ``example``: classify prompt → gold verbalizer."""
    if example.label not in spec.task.labels:
        raise ConfigError(f"example {example.id}: label {example.label!r} is not a label of task {spec.task.name!r}")
    return TrainItem(example_id=example.id, task=spec.task.name, kind="classification", prompt=spec.classify_prompt(example),
                     target=spec.task.verbalizer(example.label))


def training_mix(pseudo: PseudoResult, classification: Sequence[tuple[SelfConsistencySpec, Example]], *, replay: int = 0,
                 seed: int = 0, classification_share: float | None = None) -> list[TrainItem]:
    """Explanations, then classification instructions, then replay items (see the module doc)."""
    if isinstance(replay, bool) or not isinstance(replay, int) or replay < 0:
        raise ConfigError(f"replay must be a non-negative integer, got {replay!r}")
    cls = [classification_item(spec, e) for spec, e in classification]
    if classification_share is not None:
        if not 0 <= classification_share < 1:
            raise ConfigError(f"classification_share must be in [0, 1), got {classification_share!r}")
        want = round(classification_share / (1 - classification_share) * len(pseudo.items))
        if want < len(cls):
            keep = sorted(random.Random(f"classification:{seed}").sample(range(len(cls)), want))
            cls = [cls[i] for i in keep]
    return [*pseudo.items, *cls, *replay_items(replay, seed)]


def encode_item(tokenizer: Any, prompt: str, target: str, suffix: str = "") -> Encoded:
    """Prompt and target ids whose concatenation is the tokenisation of ``prompt + target + suffix``."""
    full = list(tokenizer(prompt + target + suffix).input_ids)
    own = list(tokenizer(prompt).input_ids)
    k = 0
    while k < min(len(own), len(full)) and own[k] == full[k]:
        k += 1
    if k == len(full):
        raise ConfigError(f"the training target {target!r} adds no tokens to its prompt")
    return Encoded(tuple(full[:k]), tuple(full[k:]))


def items_hash(items: Sequence[TrainItem]) -> str:
    blob = json.dumps([[it.kind, it.task, it.example_id, it.prompt, it.target] for it in items], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def _write_state(path: Path, state: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(state, indent=1, default=str), encoding="utf-8")
    os.replace(tmp, path)


def _bind(path: Path, settings: TrainSettings, digest: str, identity: dict[str, Any], n_items: int) -> dict[str, Any]:
    """The stored state of ``path`` (checked against these settings/items/model), or a new one."""
    fresh = {"settings": settings.result_dict(), "settings_hash": settings.settings_hash(), "items_hash": digest, "n_items": n_items,
             "model_identity": identity, "trained_epoch": 0, "log": {}}
    if not path.is_file():
        return fresh
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise ConfigError(f"{path}: cannot read the training state: {e}; use a new output directory") from None
    if state.get("settings_hash") != fresh["settings_hash"]:
        old = state.get("settings", {})
        diff = [f"{k}: {old.get(k)!r} -> {v!r}" for k, v in fresh["settings"].items() if old.get(k) != v]
        raise ConfigError(f"{path.parent} holds a training with other settings ({'; '.join(diff) or 'changed'}); "
                          "rerun with the same settings to resume, or use a new output directory")
    if state.get("items_hash") != digest:
        raise ConfigError(f"{path.parent}: the training items differ from the stored ones ({state.get('n_items')} then, {n_items} now); "
                          "use a new output directory")
    if state.get("model_identity") != json.loads(json.dumps(identity, default=str)):
        raise ConfigError(f"{path.parent}: the base model differs from the one this training started with; use a new output directory")
    return state


def train_selfexplain(loaded: LoadedModel, items: Sequence[TrainItem], settings: TrainSettings, output_dir: Path, *, progress: bool = True,
                      eval_loss: bool = True, hook: Hook | None = None) -> list[Path]:
    """Train (or resume) LoRA on ``items``; the adapter directory of every epoch, in order.

    ``loaded.model`` is MODIFIED in place (LoRA layers are injected) when an epoch remains to
    train: pass a copy if the original is needed. ``eval_loss`` records the mean target loss
    over all items (eval mode) before training and after each epoch in the state file's
    ``log`` (one extra forward pass over the items per epoch)."""
    if not items:
        raise ConfigError("no training items: the pseudo-explanation builder kept nothing and no classification/replay items were given")
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / STATE_FILE
    digest = items_hash(items)
    state = _bind(path, settings, digest, dict(loaded.identity), len(items))
    trained = int(state.get("trained_epoch", 0))
    if trained > settings.epochs:
        raise ConfigError(f"{out} already holds {trained} trained epochs, more than the {settings.epochs} asked for")
    if trained < settings.epochs:
        encoded = [encode_item(loaded.tokenizer, it.prompt, it.target, settings.target_suffix) for it in items]
        config = settings.finetune_config()
        trainer = LoraTrainer(loaded, config, math.ceil(len(encoded) / settings.batch_size))
        if trainer.use_cache:
            # Fill the frozen-layer cache in item order before any epoch: its states then come
            # from the same padded chunks whether or not the run was resumed, so a resumed run
            # reproduces the uninterrupted adapter bit for bit (chunks built in a shuffled
            # epoch's order pad differently and differ in the last float bits).
            trainer._frozen_states(encoded)
        if trained:
            trainer.restore(out, trained)
        elif eval_loss:
            state["log"]["0"] = {"eval_loss": trainer.mean_loss(encoded)}
        _write_state(path, state)
        for epoch in range(trained + 1, settings.epochs + 1):
            with progress_bar(len(encoded), f"self-explanation training, epoch {epoch}/{settings.epochs}", enabled=progress) as bar:
                def on_step(n: int, loss: float, bar: Any = bar) -> None:
                    bar.update(n)
                    bar.set_postfix(loss=f"{loss:.3f}")

                stats = trainer.train_epoch(encoded, epoch, on_step)
            trainer.save(out, epoch)
            if eval_loss:
                stats["eval_loss"] = trainer.mean_loss(encoded)
            state["log"][str(epoch)] = stats
            state["trained_epoch"] = epoch
            _write_state(path, state)
            trainer.prune_states(out, epoch)
            if hook is not None:
                hook(epoch)
    return [adapter_dir(out, e) for e in range(1, settings.epochs + 1)]


def training_log(output_dir: Path) -> dict[str, Any]:
    """The per-epoch log (``"0"``: before training) of a training directory."""
    path = Path(output_dir) / STATE_FILE
    if not path.is_file():
        raise ConfigError(f"{output_dir}: no {STATE_FILE}; not a self-explanation training directory")
    return json.loads(path.read_text(encoding="utf-8"))["log"]
