#!/usr/bin/env bash
# measurement.sh: what a configuration costs and how repeatable the winner is, cutune's bo
# against Kernel Tuner 1.5's bayes_opt on one GPU, one after the other, at the same budget
# and from empty caches: the shipped convolution (both verify against the default's output),
# the shipped SGEMM at 2048^3 and benchmark_hub's hotspot (bench/specs/hotspot_milo_sized.json;
# neither verifies, as Kernel Tuner without an answer). cutune runs once per seed, Kernel
# Tuner as often (its bayes_opt takes no seed). `summary` gathers every run in OUT_DIR into
# one record: seconds per configuration and their ratio, each run's winner and the spread of
# the winners' times ((slowest - fastest) / fastest), how often cutune's measuring side
# waited for a binary.
#
# `sim-spread` needs no GPU: how often bo's sessions end within 2% of the optimum on the
# convolution's two whole recorded spaces (H100 and H200), at the GPU runs' settings (batch
# 4) and budgets of 100, 150 and 200, 40 sessions each; and the spread of each 5 seeds' bests.
#
# usage: bench/scripts/measurement.sh PART...   PART: cutune, kt-convolution, kt-sgemm,
#                                               kt-hotspot, summary RECORD.json, sim-spread
# env:   SEEDS ("1 2 3 4 5"), KT_RUNS (5), BUDGET (100), CUTUNE (build/cutune),
#        KERNELS ("convolution sgemm hotspot"): what `cutune` runs,
#        OUT_DIR (build/bench-out/measurement)
# Needs a GPU, and Kernel Tuner importable by python3 for the kt parts (README: how to carry
# it to a machine without PyPI).
set -euo pipefail
cd "$(dirname "$0")/../.."
SEEDS=${SEEDS:-"1 2 3 4 5"}
KT_RUNS=${KT_RUNS:-5}
BUDGET=${BUDGET:-100}
CUTUNE=${CUTUNE:-build/cutune}
KERNELS=${KERNELS:-"convolution sgemm hotspot"}
OUT_DIR=${OUT_DIR:-build/bench-out/measurement}
mkdir -p "$OUT_DIR"
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT

cutune_args() { # kernel: the tune command's kernel, spec and options
    case $1 in
    convolution) echo kernels/convolution.cu --spec kernels/convolution.json ;;
    sgemm) echo kernels/sgemm.cu --spec kernels/sgemm.json --problem 2048,2048,2048 \
        --verify none ;;
    hotspot) echo --spec bench/specs/hotspot_milo_sized.json --verify none ;;
    esac
}

run_cutune() {
    for k in $KERNELS; do
        for seed in $SEEDS; do
            # an empty binary cache: every configuration is compiled
            XDG_CACHE_HOME="$SCRATCH/cache-$k-$seed" "$CUTUNE" tune $(cutune_args "$k") \
                --strategy bo --budget "$BUDGET" --seed "$seed" --no-store --json \
                >"$OUT_DIR/cutune-$k-s$seed.json"
            python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(sys.argv[2],
                "s/config", round(r["seconds_per_config"], 4), "confirmed", r["confirmed_ms"],
                "waits", r["compile_waits"])' "$OUT_DIR/cutune-$k-s$seed.json" "cutune $k s$seed"
        done
    done
}

run_kt() { # kernel
    local k=$1 cache
    for run in $(seq 1 "$KT_RUNS"); do
        # Kernel Tuner's cupy backend keeps compiled kernels in CuPy's cache: a fresh one
        cache="$SCRATCH/cupy-$k-$run"
        case $k in
        convolution) CUPY_CACHE_DIR=$cache python3 bench/scripts/kt_gpu.py --strategy bayes_opt \
            --budget "$BUDGET" --json "$OUT_DIR/kt-$k-r$run.json" ;;
        sgemm) CUPY_CACHE_DIR=$cache python3 bench/scripts/kt_t1.py kernels/sgemm.json \
            --problem 2048,2048,2048 --strategy bayes_opt --budget "$BUDGET" \
            --json "$OUT_DIR/kt-$k-r$run.json" ;;
        hotspot) CUPY_CACHE_DIR=$cache python3 bench/scripts/kt_t1.py \
            bench/specs/hotspot_milo_sized.json --strategy bayes_opt --budget "$BUDGET" \
            --json "$OUT_DIR/kt-$k-r$run.json" ;;
        esac
        rm -rf "$cache"
    done
}

summary() { # record
    python3 - "$OUT_DIR" "$1" "$BUDGET" <<'EOF'
import glob, json, os, re, subprocess, sys
out_dir, record, budget = sys.argv[1], sys.argv[2], int(sys.argv[3])
smi = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
                     capture_output=True, text=True).stdout.strip().split(", ")
rec = {"device": smi[0], "driver": smi[1] if len(smi) > 1 else None, "budget": budget,
       "command": "bench/scripts/measurement.sh cutune kt-convolution kt-sgemm kt-hotspot "
                  "summary RECORD", "kernels": {}}
def spread(xs):
    xs = [x for x in xs if x]
    return (max(xs) - min(xs)) / min(xs) if xs else None
for k in ("convolution", "sgemm", "hotspot"):
    cut = [json.load(open(p)) for p in sorted(glob.glob(f"{out_dir}/cutune-{k}-s*.json"))]
    kt = [json.load(open(p)) for p in sorted(glob.glob(f"{out_dir}/kt-{k}-r*.json"))]
    if not cut and not kt:
        continue
    mean = lambda xs: sum(xs) / len(xs) if xs else None
    c_spc = [r["seconds_per_config"] for r in cut]
    k_spc = [r["s_per_config"] for r in kt]
    e = {"cutune_bo": [{"seed": s, "seconds_per_config": r["seconds_per_config"],
                        "best_ms": r["best_ms"], "best_config": r["best_config"],
                        "confirmed_ms": r["confirmed_ms"],
                        "confirmed_interval_ms": r["confirmed_interval_ms"],
                        "search_best_config": r["search_best_config"],
                        "evaluations": r["evaluations"], "compiled": r["compiled"],
                        "compile_waits": r["compile_waits"],
                        "compile_wait_s": r["compile_wait_s"], "throttled": r["throttled"],
                        "timed_launches": r["timed_launches"]}
                       for s, r in zip([int(re.search(r"-s(\d+)\.json", p).group(1))
                                        for p in sorted(glob.glob(f"{out_dir}/cutune-{k}-s*.json"))],
                                       cut)],
         "kt_bayes_opt": [{"seconds_per_config": r["s_per_config"], "best_ms": r["best_ms"],
                           "best_config": r["best_config"], "evaluations": r["evaluations"],
                           "measured": r["measured"]} for r in kt]}
    e["cutune_seconds_per_config_mean"] = mean(c_spc)
    e["kt_seconds_per_config_mean"] = mean(k_spc)
    if c_spc and k_spc:
        e["seconds_per_config_ratio"] = mean(c_spc) / mean(k_spc)
    e["cutune_winner_spread"] = spread([r["confirmed_ms"] for r in cut])
    e["cutune_search_best_spread"] = spread([r["best_ms"] for r in cut])
    e["kt_winner_spread"] = spread([r["best_ms"] for r in kt])
    rec["kernels"][k] = e
    print(f"{k}: cutune {e['cutune_seconds_per_config_mean']} s/config, KT "
          f"{e['kt_seconds_per_config_mean']}; ratio {e.get('seconds_per_config_ratio')}; "
          f"winners' spread cutune {e['cutune_winner_spread']} (search's {e['cutune_search_best_spread']}), "
          f"KT {e['kt_winner_spread']}")
json.dump(rec, open(record, "w"), indent=1)
EOF
}

sim_spread() {
    for space in data/spaces/conv2d_H100.json.gz data/spaces/cutune/convolution_H200.json.gz; do
        for budget in 100 150 200; do
            "$CUTUNE" sim --space "$space" --strategy bo --batch 4 --budget "$budget" \
                --repeats 40 --trace "$SCRATCH/trace" --json >"$SCRATCH/sim.json"
            python3 - "$SCRATCH/trace" "$space" "$budget" "$SCRATCH/sim.json" <<'EOF'
import collections, json, math, sys
best = collections.defaultdict(lambda: math.inf) # session -> its best time
for line in open(sys.argv[1]):
    f = line.strip().split(",")
    try:
        best[int(f[0])] = min(best[int(f[0])], float(f[-1]))
    except ValueError:
        pass # a failed configuration
b = [best[k] for k in sorted(best)]
low = json.load(open(sys.argv[4]))["optimum"] # the space's fastest
spreads = [(max(b[g:g + 5]) - min(b[g:g + 5])) / min(b[g:g + 5]) for g in range(0, len(b), 5)]
print(f"{sys.argv[2]} budget {sys.argv[3]}: {sum(x <= 1.02 * low for x in b)} of {len(b)} "
      f"sessions within 2% of {low:.4f} ms; spread of seeds 1-5: {100 * spreads[0]:.1f}%; "
      f"groups of 5 seeds within 2%: {sum(s <= 0.02 for s in spreads)} of {len(spreads)}")
EOF
        done
    done
}

[ "$*" = sim-spread ] || nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
while [ $# -gt 0 ]; do
    case $1 in
    cutune) run_cutune ;;
    kt-convolution | kt-sgemm | kt-hotspot) run_kt "${1#kt-}" ;;
    summary) summary "$2"; shift ;;
    sim-spread) sim_spread ;;
    *) echo "measurement.sh: unknown part $1" >&2; exit 2 ;;
    esac
    shift
done
