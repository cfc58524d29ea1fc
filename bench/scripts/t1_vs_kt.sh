#!/usr/bin/env bash
# t1_vs_kt.sh: cutune against Kernel Tuner on a T1 spec and kernel that someone else wrote,
# unchanged, one after the other on the same GPU: `cutune tune --verify none` (Kernel Tuner
# verifies nothing without an answer) with bo, and Kernel Tuner 1.5's strategies through
# bench/scripts/kt_t1.py, each at the same budget and timed launches. Every cutune run starts
# with an empty binary cache, so it compiles all it evaluates. Prints one table; each run's
# JSON lands in $OUT_DIR.
#
# usage: bench/scripts/t1_vs_kt.sh SPEC [KERNEL.cu] [CUTUNE]   (default build/cutune)
# env:   BUDGET (100), SEEDS ("1"), KT ("bayes_opt random_sample"): Kernel Tuner strategies,
#        empty for none; OUT_DIR (build/bench-out/t1_vs_kt)
# Needs a GPU, and Kernel Tuner importable by python3 (the README says how to carry it).
set -euo pipefail
cd "$(dirname "$0")/../.."
SPEC=$1
KERNEL=${2:-}
CUTUNE=${3:-build/cutune}
BUDGET=${BUDGET:-100}
SEEDS=${SEEDS:-1}
KT=${KT-"bayes_opt random_sample"}
OUT_DIR=${OUT_DIR:-build/bench-out/t1_vs_kt}
NAME=$(basename "$SPEC" .json)
mkdir -p "$OUT_DIR"
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT

row() { # label json
    python3 - "$1" "$2" <<'EOF'
import json, sys
label, path = sys.argv[1], sys.argv[2]
r = json.load(open(path))
ms = lambda v: f"{v:>9.4f}" if v is not None else f"{'-':>9}"
if "tuner" in r:  # Kernel Tuner
    print(f"{label:<34} {r['evaluations']:>5} {r['wall_s']:>8.1f} {r['s_per_config']:>8.3f} "
          f"{ms(r['best_ms'])}  {r['best_config']} ({r['measured']} ran)")
else:
    ran = r["evaluations"] + 1 - r["runtime_failed"] - r["compile_failed"] - r["timeouts"]
    print(f"{label:<34} {r['evaluations']:>5} {r['seconds']:>8.1f} "
          f"{r['seconds_per_config']:>8.3f} {ms(r['best_ms'])}  {r['best_config']} ({ran} ran)")
    if r.get("first_run_failure"):
        print(f"{'':<34} first failure: {r['first_run_failure']['message']}")
EOF
}

nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
printf "%-34s %5s %8s %8s %9s  %s\n" "$NAME: tuner" "evals" "wall s" "s/config" "best ms" \
    "best configuration"
for seed in $SEEDS; do
    out="$OUT_DIR/$NAME-cutune-bo-s$seed.json"
    XDG_CACHE_HOME="$SCRATCH/cache-$seed" "$CUTUNE" tune ${KERNEL:+"$KERNEL"} --spec "$SPEC" \
        --strategy bo --budget "$BUDGET" --seed "$seed" --verify none --no-store --json >"$out"
    row "cutune bo, seed $seed" "$out"
done
for k in $KT; do
    out="$OUT_DIR/$NAME-kt-$k.json"
    python3 bench/scripts/kt_t1.py "$SPEC" --strategy "$k" --budget "$BUDGET" --json "$out" \
        >/dev/null
    row "Kernel Tuner $k" "$out"
done
