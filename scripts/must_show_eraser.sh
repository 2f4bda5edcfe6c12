#!/usr/bin/env bash
# The "must show" runs of issue 11 in one go, resumable, each timed by /usr/bin/time -v:
#
#   1. faithscope run --dataset esnli -n 300 --methods all        (Table 2 + Table 4, e-SNLI)
#   2. faithscope run --dataset medical_bios --methods all        (all 113 bios; HUMAN = 100)
#   3. python benchmarks/attribution.py --repeats 3 --ig-steps 20  (IG vs Captum LayerIntegratedGradients)
#
# Measured on 2 CPU cores (2026-12-08, nothing else running): e-SNLI with --methods all takes 13-19 s per
# example for the rationales alone (~80% Integrated Gradients: 20 steps x ~1.7 labels), so ~80 min for
# 300 before the masking stage; MedicalBios' prompts are ~2.5x longer. Plan 4-5 h for both, or a GPU.
#
# Why a script: the full runs take hours on a CPU; a faithscope run resumes where it stopped
# (every finished batch is in its results.sqlite), so rerunning this script after an
# interruption continues each run instead of starting afresh. The benchmark is short and has
# no store: it is rerun unless its log already holds its final line.
#
# Usage:  scripts/must_show_eraser.sh OUTPUT_DIR
# Output: OUTPUT_DIR/esnli/ and OUTPUT_DIR/medical_bios/ (run directories with report/),
#         OUTPUT_DIR/<step>.log (stdout+stderr), OUTPUT_DIR/<step>.time (/usr/bin/time -v),
#         OUTPUT_DIR/attribution.log (the benchmark; last line = its figures).
# Env:    PYTHON       interpreter with faithscope installed (default: python)
#         FAITHSCOPE_DATA  folder holding esnli/, medical_bios/ (required unless --data-dir works by default)
#         N            override e-SNLI's -n and cap MedicalBios with -n (a smoke test, e.g. N=4);
#                      unset = the full must-show sizes (e-SNLI 300, MedicalBios all)
#         METHODS      --methods value (default: all)
#         EXTRA        extra `faithscope run` options, e.g. "--device cuda --max-batch-tokens 32768"
#         BENCH_ARGS   extra benchmark options (with N set: "--n-esnli N --n-fever 2 --skip-inseq --repeats 1")
#         SKIP_BENCH   1 = leave the benchmark out
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTPUT_DIR" >&2
    exit 2
fi
OUT="$1"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${PYTHON:-python}"
METHODS="${METHODS:-all}"
EXTRA="${EXTRA:-}"
TIME=/usr/bin/time
if [ ! -x "$TIME" ]; then
    echo "must_show_eraser: $TIME not found (apt-get install time)" >&2
    exit 2
fi
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"

if [ -n "${N:-}" ]; then
    ESNLI_N=(-n "$N")
    BIOS_N=(-n "$N")
    BENCH_DEFAULT=(--n-esnli "$N" --n-fever 2 --skip-inseq --repeats 1)
else
    ESNLI_N=(-n 300)
    BIOS_N=()
    BENCH_DEFAULT=(--repeats 3)
fi

# step NAME CMD...: run CMD under /usr/bin/time -v, output in NAME.log, resources in NAME.time
step() {
    local name="$1"
    shift
    echo "must_show_eraser: $name: $*" >&2
    local rc=0
    "$TIME" -v -o "$OUT/$name.time" "$@" >>"$OUT/$name.log" 2>&1 || rc=$?
    if [ "$rc" -ne 0 ]; then
        echo "must_show_eraser: $name failed (exit $rc); see $OUT/$name.log; rerun this script to resume" >&2
        exit "$rc"
    fi
    grep -E "Elapsed \(wall clock\)|Maximum resident" "$OUT/$name.time" | sed "s/^/must_show_eraser: $name: /" >&2
}

cd "$ROOT"
# shellcheck disable=SC2086  # EXTRA is a list of options, split on purpose
step esnli "$PY" -m faithscope.cli run --dataset esnli "${ESNLI_N[@]}" --methods "$METHODS" \
    --output-dir "$OUT/esnli" --no-progress $EXTRA
# shellcheck disable=SC2086
step medical_bios "$PY" -m faithscope.cli run --dataset medical_bios "${BIOS_N[@]}" --methods "$METHODS" \
    --output-dir "$OUT/medical_bios" --no-progress $EXTRA

if [ "${SKIP_BENCH:-0}" != "1" ]; then
    if [ -f "$OUT/attribution.log" ] && tail -n 1 "$OUT/attribution.log" | grep -q "ig_max_rel_diff="; then
        echo "must_show_eraser: attribution: done before (last line of attribution.log), not rerun" >&2
    else
        rm -f "$OUT/attribution.log"
        # shellcheck disable=SC2086
        step attribution "$PY" benchmarks/attribution.py --ig-steps 20 "${BENCH_DEFAULT[@]}" ${BENCH_ARGS:-}
    fi
fi

echo "must_show_eraser: done; tables in $OUT/esnli/report and $OUT/medical_bios/report" >&2
for d in esnli medical_bios; do
    for t in table2_alignment.md table4_faithfulness.md; do
        [ -f "$OUT/$d/report/$t" ] && echo "  $OUT/$d/report/$t" >&2
    done
done
exit 0
