#!/usr/bin/env bash
# gpu_vs_kt.sh: cutune against Kernel Tuner on the GPU, one after the other on the same
# machine: cutune's convolution (kernels/convolution.cu over kernels/convolution.json), same
# space, budget and timed launches. Each cutune session starts with an empty binary cache
# (a fresh XDG_CACHE_HOME), so it compiles everything it evaluates; Kernel Tuner runs through
# bench/scripts/kt_gpu.py (cupy backend). Prints one table; JSON per run lands in $OUT_DIR.
#
# usage: bench/scripts/gpu_vs_kt.sh [CUTUNE]       (default build/cutune)
# env:   BUDGET (100), SEEDS ("1 2"), BATCHES ("1 4 8") for cutune's bo,
#        KT ("bayes_opt random_sample"): Kernel Tuner strategies, empty for none,
#        OUT_DIR (build/bench-out/gpu_vs_kt)
# Needs a GPU; Kernel Tuner importable by python3 (e.g. installed from wheels).
set -euo pipefail
cd "$(dirname "$0")/../.."
CUTUNE=${1:-build/cutune}
BUDGET=${BUDGET:-100}
SEEDS=${SEEDS:-"1 2"}
BATCHES=${BATCHES:-"1 4 8"}
KT=${KT-"bayes_opt random_sample"}
OUT_DIR=${OUT_DIR:-build/bench-out/gpu_vs_kt}
mkdir -p "$OUT_DIR"
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT

row() { # label json
    python3 - "$1" "$2" <<'EOF'
import json, sys
label, path = sys.argv[1], sys.argv[2]
r = json.load(open(path))
if "tuner" in r:   # Kernel Tuner
    print(f"{label:<32} {r['evaluations']:>5} {r['wall_s']:>8.1f} {r['s_per_config']:>8.3f} "
          f"{r['best_ms']:>9.4f}   {'-':>12}")
else:
    ahead = r["from_cache"]
    print(f"{label:<32} {r['evaluations'] + 1:>5} {r['seconds']:>8.1f} "
          f"{r['seconds_per_config']:>8.3f} {r['best_ms']:>9.4f}   "
          f"{ahead:>4} of {r['compiled'] + ahead:<4}")
EOF
}

run_cutune() { # label json strategy seed [batch]
    local cache="$SCRATCH/cache-$RANDOM"
    XDG_CACHE_HOME=$cache "$CUTUNE" tune kernels/convolution.cu --spec kernels/convolution.json \
        --strategy "$3" --budget "$BUDGET" --seed "$4" ${5:+--batch "$5"} --json >"$2"
    rm -rf "$cache"
}

nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
printf "%-32s %5s %8s %8s %9s   %12s\n" "tuner" "evals" "wall s" "s/config" "best ms" \
    "compiled ahead"
for seed in $SEEDS; do
    for q in $BATCHES; do
        run_cutune "bo batch $q seed $seed" "$OUT_DIR/cutune-bo-q$q-s$seed.json" bo "$seed" "$q"
        row "cutune bo, batch $q, seed $seed" "$OUT_DIR/cutune-bo-q$q-s$seed.json"
    done
    run_cutune "random seed $seed" "$OUT_DIR/cutune-random-s$seed.json" random "$seed"
    row "cutune random, seed $seed" "$OUT_DIR/cutune-random-s$seed.json"
done
for k in $KT; do
    python3 bench/scripts/kt_gpu.py --strategy "$k" --budget "$BUDGET" \
        --json "$OUT_DIR/kt-$k.json" >/dev/null 2>"$OUT_DIR/kt-$k.log"
    row "Kernel Tuner $k" "$OUT_DIR/kt-$k.json"
done
