"""LoRA training on the classification prompt, with the loss on the label tokens only.

Each training example is the task's classification prompt (exactly the string the evaluation
scores, :meth:`~faithscope.tasks.fit.PromptBuilder.classification`) followed by the gold
label's verbalizer tokens, all of them teacher-forced (SmolLM2 splits " entailment" into two
tokens). The loss of an example is ``-log p(verbalizer | prompt)``, the sum of the negative
log-probabilities of its label tokens, i.e. the quantity the classifier ranks labels by; no
loss is taken on prompt tokens. A batch's loss is the mean over its examples.

Optimisation: AdamW (weight decay 0 by default, as the Hugging Face Trainer), gradient
clipping at norm 1, a learning rate warmed up linearly over ``warmup_steps`` optimizer steps
(step ``s`` uses ``lr * (s + 1) / warmup``, so the first step is not wasted at lr 0) then
decayed linearly to 0 at the last step (``schedule="linear"``) or kept (``"constant"``).
A total batch of ``batch_size`` examples is processed as ``grad_accum`` micro-batches.

Frozen-layer cache (``lora_layers=K`` with ``cache_frozen``, the ``cpu`` preset): when LoRA
adapts only the last K transformer layers, the layers below them are frozen and, having no
dropout (SmolLM2/Llama/Mistral use attention dropout 0), compute the same hidden states in
every epoch. Those states are computed once per training example (a forward up to the first
adapted layer, in eval mode) and each training forward then starts at the first adapted layer
(the frozen layers are bypassed, the cached states enter as ``inputs_embeds``). Rotary
position embeddings and the attention mask are built by the model as usual from the same
``position_ids`` and ``attention_mask``, so the loss equals the uncached one up to float
rounding (tested); an epoch costs K layers forward and backward instead of all of them.

Determinism: the LoRA initialisation is drawn after ``torch.manual_seed(seed)``; epoch ``e``
shuffles with ``random.Random(seed, e)`` and reseeds torch (dropout) with a value derived from
``(seed, e)``, so an epoch trains the same whether or not the process was restarted before it.

Checkpoints hold no pickles: the adapter is written by peft as ``adapter_model.safetensors``
(+ ``adapter_config.json``); the optimizer moments and the torch RNG state go to a
safetensors file and the optimizer's scalar settings, step counter and parameter names to a
JSON file next to it. Each file is written under a temporary name and renamed into place.
"""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

from ..errors import ConfigError
from ..models.batching import left_pad
from ..models.loading import LoadedModel
from ..tasks.fit import PromptBuilder
from ..types import Example
from .presets import FinetuneConfig

ADAPTERS = "adapters"
STATE_DIR = "training_state"
ADAPTER_WEIGHTS = "adapter_model.safetensors"


@dataclass(frozen=True)
class Encoded:
    """Token ids of one training example: prompt (with BOS if the tokenizer adds one) and label."""

    prompt: tuple[int, ...]
    label: tuple[int, ...]
    truncated_words: int = 0


def encode(examples: Sequence[Example], prompts: PromptBuilder, backend: Any) -> list[Encoded]:
    """Prompt and verbalizer ids of every example (the prompt is fitted to the context window)."""
    verbalizers = prompts.verbalizers()
    label_ids = {lab: backend.verbalizer_ids(v) for lab, v in verbalizers.items()}
    out = []
    for e in examples:
        fitted = prompts.classification(e)
        out.append(Encoded(tuple(backend.encode(fitted.text)), label_ids[e.label], fitted.truncated_words))
    return out


def adapter_dir(output_dir: Path | str, epoch: int) -> Path:
    return Path(output_dir) / ADAPTERS / f"epoch_{epoch}"


def lr_at(step: int, config: FinetuneConfig, total_steps: int) -> float:
    """Learning rate of optimizer step ``step`` (0-based) of ``total_steps``."""
    if config.warmup_steps and step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    if config.schedule == "constant":
        return config.lr
    remaining = total_steps - step
    span = max(1, total_steps - config.warmup_steps)
    return config.lr * max(0.0, min(1.0, remaining / span))


def _epoch_seed(seed: int, epoch: int) -> int:
    return (seed * 1_000_003 + epoch * 7919) % (2**31 - 1)


class LoraTrainer:
    """Wraps ``loaded.model`` in LoRA adapters (the model object is modified in place)."""

    def __init__(self, loaded: LoadedModel, config: FinetuneConfig, steps_per_epoch: int):
        from peft import LoraConfig, get_peft_model

        self.config = config
        self.loaded = loaded
        base = loaded.model
        for p in base.parameters():
            p.requires_grad_(False)
        n_layers = int(getattr(base.config, "num_hidden_layers", 0) or 0)
        layers = None
        if config.lora_layers is not None:
            if not n_layers:
                raise ConfigError("--lora-layers needs a model whose config has num_hidden_layers")
            layers = list(range(max(0, n_layers - config.lora_layers), n_layers))
        present = {name.rsplit(".", 1)[-1] for name, _ in base.named_modules()}
        missing = [m for m in config.target_modules if m not in present]
        if missing:
            raise ConfigError(f"--target-modules {', '.join(missing)} not found in the model; it has e.g. "
                              f"{', '.join(sorted(n for n in present if n.endswith('proj'))[:8])}")
        lora = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
                          target_modules=list(config.target_modules), layers_to_transform=layers, bias="none", task_type="CAUSAL_LM")
        torch.manual_seed(config.seed)
        self.peft = get_peft_model(base, lora)
        self.model = self.peft.get_base_model()  # the transformers model, LoRA layers injected in place
        self.names = [n for n, p in self.peft.named_parameters() if p.requires_grad]
        self.params = [p for _, p in self.peft.named_parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(self.params, lr=config.lr, weight_decay=config.weight_decay)
        self.steps_per_epoch = steps_per_epoch
        self.total_steps = steps_per_epoch * config.epochs
        self.step = 0
        self.pad_id = loaded.tokenizer.pad_token_id
        self.first_adapted = layers[0] if layers else 0
        self.use_cache = bool(config.cache_frozen and self.first_adapted > 0)
        self._cache: dict[tuple[int, ...], torch.Tensor] = {}
        self.peft.eval()

    @property
    def n_trainable(self) -> int:
        return sum(p.numel() for p in self.params)

    # -- loss -----------------------------------------------------------------------------
    def _decoder_layers(self) -> torch.nn.ModuleList:
        decoder = self.model.get_decoder() if hasattr(self.model, "get_decoder") else self.model.model
        layers = getattr(decoder, "layers", None)
        if not isinstance(layers, torch.nn.ModuleList):
            raise ConfigError("the frozen-layer cache needs a decoder with a `layers` ModuleList; use --no-cache-frozen")
        return layers

    @torch.no_grad()
    def _frozen_states(self, items: Sequence[Encoded]) -> list[torch.Tensor]:
        """Hidden states entering the first adapted layer, per item (unpadded), computed once."""
        todo = [it for it in dict.fromkeys(it.prompt + it.label for it in items) if it not in self._cache]
        if todo:
            layers = self._decoder_layers()
            target = layers[self.first_adapted]

            def stop(module, args, kwargs):
                raise _Reached(args[0] if args else kwargs["hidden_states"])

            was_training = self.peft.training
            self.peft.eval()
            handle = target.register_forward_pre_hook(stop, with_kwargs=True)
            try:
                for i in range(0, len(todo), 8):
                    chunk = [list(seq) for seq in todo[i:i + 8]]
                    ids, mask, pos = left_pad(chunk, self.pad_id)
                    device = next(self.model.parameters()).device
                    try:
                        self.model(input_ids=ids.to(device), attention_mask=mask.to(device), position_ids=pos.to(device), use_cache=False,
                                   logits_to_keep=1)
                    except _Reached as r:
                        hidden = r.hidden.detach()
                    else:  # pragma: no cover - the hook always fires
                        raise RuntimeError("the first adapted layer was not reached")
                    width = ids.shape[1]
                    for b, seq in enumerate(chunk):
                        self._cache[tuple(seq)] = hidden[b, width - len(seq):].clone()
            finally:
                handle.remove()
                self.peft.train(was_training)
        return [self._cache[it.prompt + it.label] for it in items]

    def example_losses(self, items: Sequence[Encoded]) -> torch.Tensor:
        """``-log p(label tokens | prompt)`` of each item (one forward over a left-padded batch;
        logits only at the positions that predict label tokens)."""
        seqs = [list(it.prompt) + list(it.label) for it in items]
        ids, mask, pos = left_pad(seqs, self.pad_id)
        device = next(self.model.parameters()).device
        width = max(len(it.label) for it in items)
        kwargs = dict(attention_mask=mask.to(device), position_ids=pos.to(device), use_cache=False, logits_to_keep=width + 1)
        if self.use_cache:
            states = self._frozen_states(items)
            embeds = torch.zeros((len(items), ids.shape[1], states[0].shape[-1]), dtype=states[0].dtype, device=device)
            for b, st in enumerate(states):
                embeds[b, ids.shape[1] - st.shape[0]:] = st
            layers = self._decoder_layers()
            saved = [layers[i] for i in range(self.first_adapted)]
            try:
                for i in range(self.first_adapted):
                    layers[i] = _Bypass()
                out = self.model(inputs_embeds=embeds, **kwargs)
            finally:
                for i, layer in enumerate(saved):
                    layers[i] = layer
        else:
            out = self.model(input_ids=ids.to(device), **kwargs)
        logp = torch.log_softmax(out.logits.float(), dim=-1)  # (B, width + 1, V)
        rows, cols, toks = [], [], []
        for b, it in enumerate(items):
            n = len(it.label)
            for j, tok in enumerate(it.label):
                rows.append(b)
                cols.append(width - n + j)  # kept position predicting label token j
                toks.append(tok)
        r = torch.tensor(rows, device=device)
        picked = logp[r, torch.tensor(cols, device=device), torch.tensor(toks, device=device)]
        return -torch.zeros(len(items), device=device).index_add(0, r, picked)

    @torch.no_grad()
    def mean_loss(self, items: Sequence[Encoded], batch: int = 8) -> float:
        """Mean loss over ``items`` in eval mode (no dropout, no update)."""
        was_training = self.peft.training
        self.peft.eval()
        total = 0.0
        for i in range(0, len(items), batch):
            total += float(self.example_losses(items[i:i + batch]).sum())
        self.peft.train(was_training)
        return total / max(1, len(items))

    # -- training -------------------------------------------------------------------------
    def train_epoch(self, items: Sequence[Encoded], epoch: int, on_step: Callable[[int, float], None] | None = None) -> dict[str, Any]:
        """One pass over ``items`` in a seeded order; returns loss statistics of the epoch."""
        cfg = self.config
        order = list(range(len(items)))
        random.Random(_epoch_seed(cfg.seed, epoch)).shuffle(order)
        torch.manual_seed(_epoch_seed(cfg.seed, epoch))
        self.peft.train()
        losses: list[float] = []
        lr = cfg.lr
        start = time.perf_counter()
        micro = cfg.micro_batch
        try:
            for b0 in range(0, len(order), cfg.batch_size):
                batch = order[b0:b0 + cfg.batch_size]
                lr = lr_at(self.step, cfg, self.total_steps)
                for group in self.optimizer.param_groups:
                    group["lr"] = lr
                self.optimizer.zero_grad(set_to_none=True)
                total = 0.0
                for m0 in range(0, len(batch), micro):
                    loss = self.example_losses([items[i] for i in batch[m0:m0 + micro]]).sum() / len(batch)
                    loss.backward()
                    total += float(loss.detach())
                if cfg.max_grad_norm:
                    torch.nn.utils.clip_grad_norm_(self.params, cfg.max_grad_norm)
                self.optimizer.step()
                self.step += 1
                losses.append(total)
                if on_step is not None:
                    on_step(len(batch), total)
        finally:
            self.optimizer.zero_grad(set_to_none=True)
            self.peft.eval()
        k = max(1, len(losses) // 4)
        return {"train_loss": sum(losses) / max(1, len(losses)), "train_loss_first_quarter": sum(losses[:k]) / k,
                "train_loss_last_quarter": sum(losses[-k:]) / k, "steps": len(losses), "global_step": self.step,
                "lr_last": lr, "train_seconds": time.perf_counter() - start, "train_examples": len(items)}

    # -- evaluation helpers ---------------------------------------------------------------
    def frozen(self):
        """Context: LoRA parameters do not require grad (evaluation builds no graph for them)."""
        trainer = self

        class _Frozen:
            def __enter__(self):
                for p in trainer.params:
                    p.requires_grad_(False)
                trainer.peft.eval()

            def __exit__(self, *exc):
                for p in trainer.params:
                    p.requires_grad_(True)
                return False

        return _Frozen()

    def disabled(self):
        """Context: the model without its adapters (the pre-trained model, epoch 0)."""
        return self.peft.disable_adapter()

    # -- checkpoints ----------------------------------------------------------------------
    def save(self, output_dir: Path | str, epoch: int) -> Path:
        """Write the adapter of ``epoch`` and the training state needed to continue after it."""
        from safetensors.torch import save_file

        out = Path(output_dir)
        final = adapter_dir(out, epoch)
        tmp = final.with_name(final.name + ".tmp")
        if tmp.exists():
            shutil.rmtree(tmp)
        self.peft.save_pretrained(str(tmp), safe_serialization=True)
        if not (tmp / ADAPTER_WEIGHTS).is_file():
            raise ConfigError(f"peft did not write {ADAPTER_WEIGHTS} in {tmp}")
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)

        state_dir = out / STATE_DIR
        state_dir.mkdir(parents=True, exist_ok=True)
        sd = self.optimizer.state_dict()
        tensors: dict[str, torch.Tensor] = {"rng.torch": torch.get_rng_state().clone()}
        scalars: dict[str, dict[str, Any]] = {}
        for idx, st in sd["state"].items():
            for name, value in st.items():
                if torch.is_tensor(value):
                    tensors[f"opt.{idx}.{name}"] = value.detach().cpu().contiguous().clone()
                else:
                    scalars.setdefault(str(idx), {})[name] = value
        meta = {"epoch": epoch, "step": self.step, "param_names": self.names, "param_groups": sd["param_groups"],
                "scalar_state": scalars, "weights": ADAPTER_WEIGHTS}
        stem = state_dir / f"epoch_{epoch}"
        _atomic(stem.with_suffix(".safetensors"), lambda p: save_file(tensors, str(p)))
        _atomic(stem.with_suffix(".json"), lambda p: p.write_text(json.dumps(meta, default=_json_default), encoding="utf-8"))
        return final

    @staticmethod
    def prune_states(output_dir: Path | str, keep: int) -> None:
        """Delete training states older than epoch ``keep`` (call once ``keep`` is recorded)."""
        for old in (Path(output_dir) / STATE_DIR).glob("epoch_*"):
            if old.name.split(".")[0] != f"epoch_{keep}" and old.suffix in (".safetensors", ".json"):
                old.unlink(missing_ok=True)

    def load_adapter_weights(self, directory: Path | str) -> None:
        """Set the LoRA weights from a saved adapter directory (safetensors only)."""
        from peft import set_peft_model_state_dict
        from safetensors.torch import load_file

        path = Path(directory) / ADAPTER_WEIGHTS
        if not path.is_file():
            raise ConfigError(f"{directory}: no {ADAPTER_WEIGHTS}; the fine-tune's files are incomplete")
        result = set_peft_model_state_dict(self.peft, load_file(str(path)))
        unexpected = getattr(result, "unexpected_keys", None) or []
        if unexpected:
            raise ConfigError(f"{path}: weights that this LoRA configuration does not have: {', '.join(unexpected[:3])}")

    def restore(self, output_dir: Path | str, epoch: int) -> None:
        """Continue after ``epoch``: its adapter weights, optimizer moments, step and RNG."""
        from safetensors.torch import load_file

        stem = Path(output_dir) / STATE_DIR / f"epoch_{epoch}"
        if not stem.with_suffix(".json").is_file() or not stem.with_suffix(".safetensors").is_file():
            raise ConfigError(f"{Path(output_dir)}: the training state of epoch {epoch} is missing ({stem}.json/.safetensors); "
                              "cannot resume, use a new --output-dir")
        self.load_adapter_weights(adapter_dir(output_dir, epoch))
        meta = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))
        if meta.get("param_names") != self.names:
            raise ConfigError(f"{stem}.json: the stored optimizer state belongs to other LoRA parameters; use a new --output-dir")
        tensors = load_file(str(stem.with_suffix(".safetensors")))
        state: dict[int, dict[str, Any]] = {}
        for key, value in tensors.items():
            if key.startswith("opt."):
                _, idx, name = key.split(".", 2)
                state.setdefault(int(idx), {})[name] = value
        for idx, values in meta.get("scalar_state", {}).items():
            state.setdefault(int(idx), {}).update(values)
        groups = meta["param_groups"]
        for g in groups:
            if isinstance(g.get("betas"), list):
                g["betas"] = tuple(g["betas"])
        self.optimizer.load_state_dict({"state": state, "param_groups": groups})
        self.step = int(meta["step"])
        if "rng.torch" in tensors:
            torch.set_rng_state(tensors["rng.torch"])


class _Reached(Exception):
    """Carries the hidden states that reached the first adapted layer (stops the forward)."""

    def __init__(self, hidden: torch.Tensor):
        super().__init__("first adapted layer reached")
        self.hidden = hidden


class _Bypass(torch.nn.Module):
    """Stands in for a frozen decoder layer whose output is cached: returns its input."""

    def forward(self, hidden_states: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
        return hidden_states


def _atomic(path: Path, write: Callable[[Path], None]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    write(tmp)
    os.replace(tmp, path)


def _json_default(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    if torch.is_tensor(value):
        return value.tolist()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in the training state")
