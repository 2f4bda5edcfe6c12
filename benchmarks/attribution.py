"""faithscope's one-pass attribution against Captum and Inseq: speed and agreement.

One process, one model (the embedded SmolLM2-135M in fp32 by default), the same attribution
prompts (e-SNLI and FEVER, rendered by faithscope's PromptBuilder) and the same forced targets
for every tool; the result store is bypassed. Timed, each after an untimed warm-up:

(a) faithscope: ``GradientEngine.attribute`` computing attention + saliency + Input x Gradient
    in one forward and one backward per token-budget batch (default convention);
(b) Captum 0.9, one example at a time as its docs recommend for LLMs:
    ``LLMGradientAttribution(LayerGradientXActivation(model, embeddings), tokenizer)`` with a
    ``TextTokenInput`` (Input x Gradient) -- Captum's LLM path supports only layer methods
    (LayerGradientXActivation, LayerIntegratedGradients, LayerGradientShap), so saliency is
    Captum's core ``Saliency(abs=True)`` on ``inputs_embeds`` through a forward function
    written like Captum's own LLM forward function (full logits, log-probability of the
    target);
(c) Inseq 0.7.1: ``attention``, ``saliency`` and ``input_x_gradient`` with the forced target
    (``generated_texts = prompt + target``; Inseq then attributes one example at a time).
    Saliency and Input x Gradient run with SDPA attention (faster than the eager attention
    Inseq picks when it loads a model itself); ``attention`` needs eager attention.

(d) Integrated Gradients, ``--ig-steps`` steps (default 20), zero-embedding baseline,
    Gauss-Legendre: faithscope ``GradientEngine.integrated_gradients`` (the steps of one
    example batched by the token budget) vs Captum's
    ``LLMGradientAttribution(LayerIntegratedGradients(model, embeddings))``, one example at a
    time with all its steps in one batch (``internal_batch_size`` unset), its baseline id
    mapped to the zero embedding (``ZeroForBaselineId``), same steps and rule. Agreement
    under the Captum convention (log-probability target, signed sum). ``--skip-ig`` leaves
    it out.

A floor is timed too: one plain batched forward (SDPA, logits only at the positions that
predict the target) plus one backward to the input embeddings, over the same inputs in the
same token-budget batches.

Targets: single-token label verbalizers, because Inseq attributes every target token as a
separate step (its per-step scores are not the sequence-level target of faithscope and
Captum). Each example's target is its gold label's verbalizer when that is one token,
otherwise the task's first single-token verbalizer (e-SNLI: gold " contradiction" /
" neutral", " entailment" -> " contradiction"; FEVER: " supports" for every example,
" refutes" is two tokens).

Agreement, token level (faithscope's per-prompt-token scores vs the tool's, the same token ids
checked): ``max_rel_diff`` = max over examples of max|a - b| / max|b| (b = the other tool),
under each tool's convention:
- Captum Input x Gradient: faithscope ``CAPTUM_CONVENTION`` (log-probability target, signed
  sum over the embedding dimension);
- Captum Saliency(abs=True), summed over the embedding dimension: faithscope
  (log_probability, abs_sum);
- Inseq saliency / input_x_gradient (probability target, L2 norm over the embedding
  dimension of the raw scores) and attention (mean over layers and heads of the answer
  position's row): faithscope's default convention (probability, l2, mean).

The last line is ``ratio_vs_captum=X ratio_vs_inseq=Y floor_ratio=Z max_rel_diff=W
ig_ratio_vs_captum=V ig_max_rel_diff=U`` (the IG pair is nan with ``--skip-ig``/``--skip-captum``;
``max_rel_diff`` is over every compared tool, IG included).
Usage: ``python benchmarks/attribution.py [--n-esnli 30] [--n-fever 10] [--skip-inseq] [--ig-steps 20]``.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]


@dataclass
class Item:
    dataset: str
    example_id: str
    prompt: str
    target: str
    prompt_ids: list[int]
    target_ids: list[int]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from faithscope.models.batching import DEFAULT_MAX_BATCH_TOKENS

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n-esnli", type=int, default=30, help="e-SNLI examples (first N of the file)")
    ap.add_argument("--n-fever", type=int, default=10, help="FEVER examples (first N of the file)")
    ap.add_argument("--max-batch-tokens", type=int, default=DEFAULT_MAX_BATCH_TOKENS, help="faithscope's (and the floor's) token budget per batch")
    ap.add_argument("--max-batch-size", type=int, default=32, help="faithscope's (and the floor's) maximum rows per batch")
    ap.add_argument("--threads", type=int, default=2, help="torch intra-op threads")
    ap.add_argument("--repeats", type=int, default=1, help="timed rounds (tools interleaved); the fastest round of each tool counts")
    ap.add_argument("--clock", choices=("wall", "process"), default="wall",
                    help="wall-clock time (default) or this process's CPU time (steadier on a busy machine with --threads 1)")
    ap.add_argument("--skip-inseq", action="store_true", help="leave Inseq out (ratio_vs_inseq is then nan)")
    ap.add_argument("--skip-captum", action="store_true", help="leave Captum out (ratio_vs_captum is then nan)")
    ap.add_argument("--skip-ig", action="store_true", help="leave Integrated Gradients out (faithscope's and Captum's)")
    ap.add_argument("--ig-steps", type=int, default=20, help="Integrated Gradients steps, the same for faithscope and Captum")
    ap.add_argument("--data-dir", default=os.environ.get("FAITHSCOPE_DATA") or str(REPO.parent / "shared" / "data"),
                    help="folder holding esnli/ and fever/ (default: $FAITHSCOPE_DATA or ../shared/data)")
    ap.add_argument("--model", default="embedded", help="model name (default: the embedded SmolLM2-135M GGUF)")
    ap.add_argument("--gguf-file", default=None)
    ap.add_argument("--dtype", default="float32", choices=("float32", "bfloat16", "float16"))
    ap.add_argument("--device", default="cpu")
    return ap.parse_args(argv)


# -- inputs --------------------------------------------------------------------------------
def load_items(args, backend) -> list[Item]:
    from faithscope.data import load_dataset
    from faithscope.tasks import load_task
    from faithscope.tasks.fit import PromptBuilder

    items: list[Item] = []
    for name, n in (("esnli", args.n_esnli), ("fever", args.n_fever)):
        if n <= 0:
            continue
        loaded = load_dataset(name, args.data_dir, n=n, first=True)
        task = load_task(loaded.task)
        builder = PromptBuilder(task, backend)
        verbal = builder.verbalizers()
        single = [lab for lab in task.labels if len(backend.verbalizer_ids(verbal[lab])) == 1]
        if not single:
            raise SystemExit(f"{name}: no single-token verbalizer; cannot compare with Inseq's per-step scores")
        for ex in loaded.examples:
            label = ex.label if ex.label in single else single[0]
            prompt = builder.attribution(ex).text
            items.append(Item(name, ex.id, prompt, verbal[label], backend.encode(prompt), list(backend.verbalizer_ids(verbal[label]))))
    return items


# -- timing helpers ----------------------------------------------------------------------------
def timed(fn: Callable[[], object], clock: str = "wall") -> tuple[float, object]:
    now = time.perf_counter if clock == "wall" else time.process_time
    gc.collect()
    start = now()
    out = fn()
    return now() - start, out


def rel_diff(a, b) -> float:
    import numpy as np

    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return float("inf")
    denom = np.abs(b).max()
    return float(np.abs(a - b).max() / denom) if denom > 0 else float(np.abs(a - b).max())


class ZeroForBaselineId:
    """Made in :meth:`Bench.captum_ig`: the embedding layer plus one id past the vocabulary
    whose embedding is zero, so that Captum's token-id baseline is faithscope's zero embedding
    (the same wrapper as tests/models/test_gradients.py)."""

    @staticmethod
    def make(embed):
        import torch

        class _Zero(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.embed, self.baseline_id = embed, embed.num_embeddings

            def forward(self, ids):
                keep = ids < self.baseline_id
                return self.embed(torch.where(keep, ids, torch.zeros_like(ids))) * keep[..., None].to(self.embed.weight.dtype)

        return _Zero()


class Bench:
    def __init__(self, args):
        import torch

        from faithscope.models.attention_capture import ATTN_IMPL
        from faithscope.models.gradients import GradientEngine
        from faithscope.models.hf import HFBackend
        from faithscope.models.loading import ModelSpec, load_model

        self.args = args
        self.torch = torch
        self.loaded = load_model(ModelSpec(name=args.model, gguf_file=args.gguf_file, dtype=args.dtype, device=args.device))
        self.model, self.tok = self.loaded.model, self.loaded.tokenizer
        self.embed = self.model.get_input_embeddings()
        self.backend = HFBackend(self.loaded, max_batch_tokens=args.max_batch_tokens, max_batch_size=args.max_batch_size)
        self.engine = GradientEngine(self.backend, max_batch_tokens=args.max_batch_tokens, max_batch_size=args.max_batch_size)
        self.fs_impl = ATTN_IMPL
        self.items = load_items(args, self.backend)
        self.device = self.backend.device

    def attn(self, impl: str) -> None:
        self.model.set_attn_implementation(impl)

    # (a) faithscope -------------------------------------------------------------------------
    def faithscope(self, items, config=None):
        from faithscope.models.gradients import AttributionConfig

        self.attn(self.fs_impl)
        return self.engine.attribute([it.prompt for it in items], [it.target for it in items], config or AttributionConfig())

    def faithscope_ig(self, items, config=None):
        from faithscope.models.gradients import CAPTUM_CONVENTION, IGConfig

        self.attn(self.fs_impl)
        return self.engine.integrated_gradients([it.prompt for it in items], [it.target for it in items], config or CAPTUM_CONVENTION,
                                                IGConfig(steps=self.args.ig_steps))

    # floor -----------------------------------------------------------------------------------
    def floor(self, items):
        """Plain batched forward (SDPA, logits only where the target is predicted) + backward
        to the input embeddings, over the sequences and batches faithscope uses."""
        torch = self.torch
        from faithscope.models.batching import left_pad, plan_batches

        self.attn("sdpa")
        seqs = [it.prompt_ids + it.target_ids[:-1] for it in items]
        for batch in plan_batches([len(s) for s in seqs], self.args.max_batch_tokens, self.args.max_batch_size):
            ids, mask, pos = (x.to(self.device) for x in left_pad([seqs[i] for i in batch], self.tok.pad_token_id))
            keep = max(len(items[i].target_ids) for i in batch)
            with torch.no_grad():
                emb = self.embed(ids)
            emb.requires_grad_(True)
            with torch.enable_grad():
                logits = self.model(inputs_embeds=emb, attention_mask=mask, position_ids=pos, use_cache=False, logits_to_keep=keep).logits
                logp = torch.log_softmax(logits.float(), dim=-1)
                total = logp.new_zeros(())
                for row, i in enumerate(batch):
                    t = items[i].target_ids
                    total = total + logp[row, keep - len(t) + torch.arange(len(t)), torch.tensor(t)].sum()
                (grad,) = torch.autograd.grad(total, emb)
            del grad
        return None

    # (b) Captum ------------------------------------------------------------------------------
    def captum_ixg(self, items):
        from captum.attr import LayerGradientXActivation, LLMGradientAttribution, TextTokenInput

        torch = self.torch
        self.attn("sdpa")
        lga = LLMGradientAttribution(LayerGradientXActivation(self.model, self.embed), self.tok)
        out = []
        for it in items:
            res = lga.attribute(TextTokenInput(it.prompt, self.tok), target=torch.tensor(it.target_ids))
            out.append(res.seq_attr.detach().float().cpu().numpy())
        return out

    def captum_ig(self, items):
        from captum.attr import LayerIntegratedGradients, LLMGradientAttribution, TextTokenInput

        torch = self.torch
        self.attn("sdpa")
        wrapped = ZeroForBaselineId.make(self.embed)
        self.model.set_input_embeddings(wrapped)
        try:
            lig = LLMGradientAttribution(LayerIntegratedGradients(self.model, wrapped), self.tok)
            out = []
            for it in items:
                res = lig.attribute(TextTokenInput(it.prompt, self.tok, baselines=wrapped.baseline_id), target=torch.tensor(it.target_ids),
                                    n_steps=self.args.ig_steps, method="gausslegendre")
                out.append(res.seq_attr.detach().float().cpu().numpy())
        finally:
            self.model.set_input_embeddings(self.embed)
        return out

    def captum_saliency(self, items):
        from captum.attr import Saliency

        torch = self.torch
        self.attn("sdpa")
        model = self.model

        def forward(embeds, n_target: int, target: torch.Tensor):
            # like captum's LLM GradientForwardFunc: full logits, log-prob of the target token(s)
            logits = model(inputs_embeds=embeds).logits
            logp = torch.log_softmax(logits[:, -n_target:], dim=-1)
            return logp.gather(-1, target.expand(logp.shape[0], -1)[..., None]).squeeze(-1).sum(-1)

        sal = Saliency(forward)
        out = []
        for it in items:
            ids = torch.tensor([it.prompt_ids + it.target_ids[:-1]], device=self.device)
            with torch.no_grad():
                emb = self.embed(ids)
            target = torch.tensor([it.target_ids], device=self.device)
            attr = sal.attribute(emb, abs=True, additional_forward_args=(len(it.target_ids), target))
            out.append(attr[0, : len(it.prompt_ids)].sum(-1).detach().float().cpu().numpy())
        return out

    # (c) Inseq -------------------------------------------------------------------------------
    def inseq_model(self, method: str):
        import inseq

        return inseq.load_model(self.model, method, tokenizer=self.tok)

    def inseq(self, models, method: str, items):
        self.attn("eager" if method == "attention" else "sdpa")
        out = models[method].attribute(
            input_texts=[it.prompt for it in items], generated_texts=[it.prompt + it.target for it in items],
            attributed_fn="probability", show_progress=False,
        )
        return out

    def inseq_scores(self, out, method: str, items):
        """Per prompt token scores from Inseq's raw output (None where the tokens differ)."""
        scores = []
        for seq, it in zip(out.sequence_attributions, items):
            ids = [t.id for t in seq.target]
            if ids != it.prompt_ids + it.target_ids:
                scores.append(None)
                continue
            raw = seq.target_attributions[: len(it.prompt_ids)]
            if method == "attention":  # (tokens, steps, layers, heads)
                s = raw[:, 0].float().mean(dim=(-1, -2))
            else:  # (tokens, steps, hidden)
                s = raw[:, 0].float().norm(dim=-1)
            scores.append(s.numpy())
        return scores


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")
    logging.getLogger("inseq").setLevel(logging.ERROR)
    logging.getLogger("transformers").setLevel(logging.ERROR)
    from faithscope.models.gradients import CAPTUM_CONVENTION, AttributionConfig

    bench = Bench(args)
    items = bench.items
    n = len(items)
    lens = [len(it.prompt_ids) for it in items]
    print(f"model={bench.loaded.identity.get('model')} dtype={args.dtype} device={args.device} threads={torch.get_num_threads()} "
          f"examples={n} (e-SNLI {sum(it.dataset == 'esnli' for it in items)}, FEVER {sum(it.dataset == 'fever' for it in items)}) "
          f"prompt tokens min/mean/max={min(lens)}/{sum(lens) / n:.0f}/{max(lens)} max_batch_tokens={args.max_batch_tokens} "
          f"max_batch_size={args.max_batch_size} clock={args.clock} load={os.getloadavg()[0]:.2f}", flush=True)

    # -- tools to time: name -> (method label, callable) --------------------------------------
    tools: dict[str, Callable] = {
        "faithscope": lambda its: bench.faithscope(its),
        "floor": bench.floor,
    }
    if not args.skip_captum:
        tools["captum/ixg"] = bench.captum_ixg
        tools["captum/saliency"] = bench.captum_saliency
    if not args.skip_ig:
        tools["faithscope/ig"] = bench.faithscope_ig
        if not args.skip_captum:
            tools["captum/ig"] = bench.captum_ig
    inseq_models = {}
    if not args.skip_inseq:
        for method in ("attention", "saliency", "input_x_gradient"):
            inseq_models[method] = bench.inseq_model(method)
            tools[f"inseq/{method}"] = (lambda m: lambda its: bench.inseq(inseq_models, m, its))(method)

    warm = items[:2] + [it for it in items if it.dataset == "fever"][:1]
    for name, fn in tools.items():
        fn(warm)

    times: dict[str, float] = {}
    outputs: dict[str, object] = {}
    for r in range(max(args.repeats, 1)):
        for name, fn in tools.items():
            sec, out = timed(lambda: fn(items), args.clock)
            if name not in times or sec < times[name]:
                times[name] = sec
            outputs.setdefault(name, out)
            print(f"  round {r + 1} {name:<24} {sec:8.2f} s  {n / sec:6.2f} ex/s  load={os.getloadavg()[0]:.2f}", flush=True)

    # -- agreement -----------------------------------------------------------------------------
    ours = outputs["faithscope"]
    diffs: dict[str, float] = {}
    skipped: dict[str, int] = {}
    if not args.skip_captum:
        ours_captum = bench.faithscope(items, CAPTUM_CONVENTION)
        ours_sal = bench.faithscope(items, AttributionConfig(target="log_probability", reduction="abs_sum"))
        diffs["captum/ixg"] = max(rel_diff(o.input_x_gradient, c) for o, c in zip(ours_captum, outputs["captum/ixg"]))
        diffs["captum/saliency"] = max(rel_diff(o.saliency, c) for o, c in zip(ours_sal, outputs["captum/saliency"]))
        if not args.skip_ig:
            diffs["captum/ig"] = max(rel_diff(o.scores, c) for o, c in zip(outputs["faithscope/ig"], outputs["captum/ig"]))
    if not args.skip_inseq:
        for method, field in (("attention", "attention"), ("saliency", "saliency"), ("input_x_gradient", "input_x_gradient")):
            theirs = bench.inseq_scores(outputs[f"inseq/{method}"], method, items)
            pairs = [(getattr(o, field), t) for o, t in zip(ours, theirs) if t is not None]
            skipped[f"inseq/{method}"] = n - len(pairs)
            diffs[f"inseq/{method}"] = max((rel_diff(a, b) for a, b in pairs), default=float("nan"))

    # -- table -----------------------------------------------------------------------------------
    fs = times["faithscope"]
    rows = [("faithscope", "attention+saliency+IxG (one pass)", fs, None)]
    rows.append(("floor", "plain fwd+bwd (SDPA, last logits)", times["floor"], None))
    if "faithscope/ig" in times:
        rows.append(("faithscope", f"integrated_gradients ({args.ig_steps} steps, batched)", times["faithscope/ig"], None))
    labels = {"captum/ig": ("captum", f"LLMGradientAttribution(LayerIntegratedGradients), {args.ig_steps} steps"),
              "captum/ixg": ("captum", "LLMGradientAttribution(LayerGradientXActivation)"), "captum/saliency": ("captum", "Saliency(abs=True) on inputs_embeds"),
              "inseq/attention": ("inseq", "attention"), "inseq/saliency": ("inseq", "saliency"), "inseq/input_x_gradient": ("inseq", "input_x_gradient")}
    for key, (tool, method) in labels.items():
        if key in times:
            rows.append((tool, method, times[key], diffs.get(key)))
    captum_total = times.get("captum/ixg", float("nan")) + times.get("captum/saliency", float("nan")) if not args.skip_captum else float("nan")
    inseq_total = sum(times[f"inseq/{m}"] for m in inseq_models) if inseq_models else float("nan")
    if not args.skip_captum:
        rows.append(("captum", "total (IxG + saliency)", captum_total, max(diffs["captum/ixg"], diffs["captum/saliency"])))
    if inseq_models:
        rows.append(("inseq", "total (all three)", inseq_total, max(diffs[f"inseq/{m}"] for m in inseq_models)))

    print()
    print(f"{'tool':<11} {'method':<50} {'seconds':>8} {'ex/s':>7} {'time/faithscope':>16} {'max_rel_diff':>13}")
    for tool, method, sec, diff in rows:
        d = "" if diff is None else f"{diff:.2e}"
        print(f"{tool:<11} {method:<50} {sec:8.2f} {n / sec:7.2f} {sec / fs:16.2f} {d:>13}")
    if any(skipped.values()):
        print("examples left out of the Inseq comparison (token ids differ):", skipped)
    ratio_captum = captum_total / fs
    ratio_inseq = inseq_total / fs
    floor_ratio = fs / times["floor"]
    max_rel = max(diffs.values(), default=float("nan"))
    ig_ratio = times["captum/ig"] / times["faithscope/ig"] if "captum/ig" in times else float("nan")
    if "faithscope/ig" in times:
        print(f"integrated_gradients ({args.ig_steps} steps): faithscope {n / times['faithscope/ig']:.2f} ex/s, "
              f"captum {n / times['captum/ig'] if 'captum/ig' in times else float('nan'):.2f} ex/s, "
              f"captum/faithscope time {ig_ratio:.2f}, max_rel_diff {diffs.get('captum/ig', float('nan')):.2e}")
    print(f"machine load (1-min average) at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(f"ratio_vs_captum={ratio_captum:.3f} ratio_vs_inseq={ratio_inseq:.3f} floor_ratio={floor_ratio:.3f} max_rel_diff={max_rel:.3g} "
          f"ig_ratio_vs_captum={ig_ratio:.3f} ig_max_rel_diff={diffs.get('captum/ig', float('nan')):.3g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
