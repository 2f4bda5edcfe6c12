#!/usr/bin/env bash
# The issue-14 must-show on the embedded model (SmolLM2-135M-Instruct) on CPU: the paper-style
# table (style x task, before/after, delta with CIs, accuracy before/after), the cross-style
# 3x3 matrix (+ heatmap) and the unseen-task rotations, for all three tasks and styles.
#
#   bash scripts/must_show_selfexplain.sh [OUTPUT_DIR]
#
# Resumable: rerun the same command after a kill (Ctrl-C, kill -9) and it computes only what is
# missing; with nothing missing it rewrites the tables in OUTPUT_DIR/report/ without loading the
# model. Sizes (TRAIN_N, EVAL_N, EPOCHS) are chosen for well under an hour on 2 CPU cores;
# override them in the environment (a different size needs a new OUTPUT_DIR: the store refuses
# another configuration). Tables: OUTPUT_DIR/report/selfexplain_{main,cross_style,unseen,modes,
# second_view,pseudo,stages}.{md,csv,tex}; figures in OUTPUT_DIR/report/plots/; report.html.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/selfexplain-must-show}
PY=${PYTHON:-python}
export PYTHONPATH=${PYTHONPATH:-$PWD/src}
DATA=${FAITHSCOPE_DATA:-../shared/data}
# Cost model measured on this machine (SmolLM2-135M, ~150-token prompts): one scored prompt ~1 s of
# CPU (batched); the study checks 108 x EVAL_N rows (8 conditions; before and after:main and the 3
# cross-style conditions on 3 tasks x 3 styles x 2 modes, the 3 unseen-task ones on 1 task each),
# each ~2.5 prompt-equivalents (explanation + recheck) plus 2 + DRAWS for the second view; pseudo
# explanations ~20-40 s CPU per training example (attribution, deletion of the top 5, counterfactual
# substitutes, self-check) for 3 x TRAIN_N examples; 7 LoRA trainings on the last 4 layers.
# TRAIN_N=10 EVAL_N=10 EPOCHS=2 DRAWS=3, measured 2026-12-08: 1,476 s wall, peak RSS 2.1 GiB (a test run
# shared the 2 cores for ~8 of its first 10 minutes); stages: explanations 104 s, training 188 s (7 LoRA
# runs), evaluation 819 s, second view 356 s, loading 20 s. (2026-12-02, with a llama-cpp-python build
# beside it for its first half: 2,010 s.)
# (OUTPUT_DIR/report/selfexplain_stages.md has the breakdown of your run).
TRAIN_N=${TRAIN_N:-10}
EVAL_N=${EVAL_N:-10}
EPOCHS=${EPOCHS:-2}
DRAWS=${DRAWS:-3}
start=$(date +%s)
"$PY" -m faithscope.cli selfexplain --preset cpu --data-dir "$DATA" \
  --tasks snli,agnews,sentiment140 --styles attribution,redaction,counterfactual \
  --train-n "$TRAIN_N" --eval-n "$EVAL_N" --epochs "$EPOCHS" \
  --draws "$DRAWS" --experiments main,cross-style,unseen-task --output-dir "$OUT"
echo "wall time: $(( $(date +%s) - start )) s (this invocation; the per-stage breakdown is in $OUT/report/selfexplain_stages.md)"
for t in main cross_style unseen modes pseudo stages; do cat "$OUT/report/selfexplain_$t.md"; echo; done
