#!/usr/bin/env bash
# strategies.sh: cutune's search strategies against Kernel Tuner's on the recorded spaces in
# data/spaces, all scored by `cutune sim` (same budget K per space, same number of repeats).
#
# Kernel Tuner runs in its simulation mode through bench/scripts/kt_sim.py, one job per
# strategy and space, $JOBS at a time; each job's trace is scored with `cutune sim
# --score-trace`. Then Kernel Tuner's bayes_opt is timed per suggestion on a synthetic
# 10,000-configuration space.
#
# usage: bench/scripts/strategies.sh
# env:   REPEATS (50)  sessions per strategy and space
#        JOBS (CPUs)   jobs at a time
#        KT_STRATEGIES Kernel Tuner strategies, space separated (default below)
#        SUGGEST_REPEATS (10)  bayes_opt sessions for the suggestion time
# Installs Kernel Tuner into build/kt-venv the first time (needs PyPI once). Everything it
# writes goes to build/bench-out/strategies/ (traces, logs, scores, table.txt).
set -euo pipefail
cd "$(dirname "$0")/../.."

KT_VERSION=1.5.0
REPEATS=${REPEATS:-50}
JOBS=${JOBS:-$(nproc)}
SUGGEST_REPEATS=${SUGGEST_REPEATS:-10}
# hybrid_vndx is left out by default (about 30 s a session on A100); skopt and
# pyatf_strategies need packages Kernel Tuner does not install; brute_force takes no budget.
KT_STRATEGIES=${KT_STRATEGIES:-"random_sample genetic_algorithm simulated_annealing \
dual_annealing pso diff_evo bayes_opt firefly_algorithm greedy_ils greedy_mls mls \
ordered_greedy_mls basinhopping minimize adaptive_tabu_greywolf"}
VENV=build/kt-venv
OUT=build/bench-out/strategies
# one BLAS thread per job: the jobs share the CPUs, and bayes_opt is 3x slower when its
# GP threads fight the other job for two cores
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1
started=$(date +%s)

[ -x build/cutune ] || make
if [ "$("$VENV/bin/python" -c 'import kernel_tuner; print(kernel_tuner.__version__)' \
        2>/dev/null)" != "$KT_VERSION" ]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "kernel_tuner==$KT_VERSION"
fi
PY=$VENV/bin/python

rm -rf "$OUT"
mkdir -p "$OUT/kt"
# score everything with one copy of the CLI, even if build/cutune is rebuilt meanwhile
for try in 1 2 3 4 5 6; do
    cp build/cutune "$OUT/cutune" 2>/dev/null && "$OUT/cutune" sim --help >/dev/null 2>&1 &&
        break
    [ "$try" = 6 ] && { echo "strategies.sh: cannot copy a working build/cutune" >&2; exit 1; }
    sleep 10
done
CUTUNE=$OUT/cutune

spaces=(data/spaces/*/*.json.gz)
space_args=()
for f in "${spaces[@]}"; do space_args+=(--space "$f"); done

name_of() {  # data/spaces/convolution/A100.json.gz -> convolution-A100
    echo "$(basename "$(dirname "$1")")-$(basename "$1" .json.gz)"
}

# one job: "cutune" (all of cutune's strategies on all spaces) or a Kernel Tuner strategy on
# one space. A failure is written down for the table, never fatal for the run.
run_one() {
    local strategy=$1 space=$2 budget=$3 t0=$SECONDS
    if [ "$strategy" = cutune ]; then
        # shellcheck disable=SC2086  # (paths without blanks)
        "$CUTUNE" sim --all-strategies $SPACE_ARGS --repeats "$REPEATS" --seed 1 \
            --json >"$OUT/cutune.json" 2>"$OUT/cutune.log" || echo "cutune sim failed" >&2
        echo "cutune --all-strategies: $((SECONDS - t0)) s" >&2
        return 0
    fi
    local base
    base=$OUT/kt/$(name_of "$space").$strategy
    if ! "$PY" bench/scripts/kt_sim.py "$space" --strategy "$strategy" --budget "$budget" \
            --repeats "$REPEATS" --seed 1 --trace "$base.csv" >"$base.run.json" 2>"$base.log"
    then
        echo "kt_sim.py exited with an error" >>"$base.log"
    fi
    if [ -s "$base.csv" ]; then
        "$CUTUNE" sim --space "$space" --score-trace "$base.csv" --label "kt:$strategy" \
            --json >"$base.score.json" 2>>"$base.log" || true
    fi
    echo "kt:$strategy on $(name_of "$space") (budget $budget): $((SECONDS - t0)) s" >&2
}
export -f run_one name_of
export OUT CUTUNE PY REPEATS
export SPACE_ARGS="${space_args[*]}"

# the budget of each space: its horizon K, as cutune sim reports it
declare -A budget
for f in "${spaces[@]}"; do
    budget[$f]=$("$CUTUNE" sim --space "$f" --strategy random --repeats 1 --json |
                 "$PY" -c 'import json, sys; print(json.load(sys.stdin)["budget"])')
done

# the job list, roughly longest first: bayes_opt, then cutune's own, then the rest by budget
for s in $KT_STRATEGIES; do
    prio=0
    [ "$s" = bayes_opt ] && prio=2
    for f in "${spaces[@]}"; do echo "$s $f ${budget[$f]} $prio"; done
done >"$OUT/jobs.tmp"
echo "cutune - 0 1" >>"$OUT/jobs.tmp"
sort -k4,4nr -k3,3nr "$OUT/jobs.tmp" | cut -d' ' -f1-3 >"$OUT/jobs.txt"
rm "$OUT/jobs.tmp"

echo "Kernel Tuner $KT_VERSION; $(wc -l <"$OUT/jobs.txt") jobs, $JOBS at a time, $REPEATS repeats" >&2
xargs -P "$JOBS" -L 1 bash -c 'run_one "$@"' _ <"$OUT/jobs.txt"

# bayes_opt's time per suggestion near 200 observations of 10,000 configurations, run alone
# so that the other jobs do not disturb the clock
"$PY" bench/scripts/synthetic_space.py "$OUT/synthetic10k.json" 2>/dev/null
"$PY" bench/scripts/kt_sim.py "$OUT/synthetic10k.json" --strategy bayes_opt --budget 201 \
    --repeats "$SUGGEST_REPEATS" --seed 1 --trace "$OUT/synthetic10k.bayes_opt.csv" \
    --suggest-times "$OUT/synthetic10k.bayes_opt.gaps.json" >/dev/null 2>"$OUT/synthetic10k.log"
"$CUTUNE" sim --space "$OUT/synthetic10k.json" --strategy bo --budget 201 \
    --repeats "$SUGGEST_REPEATS" --threads 1 --json >"$OUT/synthetic10k.cutune.json"

elapsed=$(($(date +%s) - started))
"$PY" - "$OUT" "$REPEATS" "$KT_VERSION" "$elapsed" "$SUGGEST_REPEATS" <<'EOF' |
import json, os, sys

out, repeats, version, elapsed, suggest_repeats = sys.argv[1:]


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def space_name(path):
    return f"{os.path.basename(os.path.dirname(path))}-{os.path.basename(path)[:-8]}"


score, notes, budget = {}, [], {}
rows = []
for r in (load(f"{out}/cutune.json") or {}).get("results", []):
    s = space_name(r["space"])
    score[(r["strategy"], s)] = f"{r['score']:.3f}"
    budget[s] = r["budget"]
    if r["strategy"] not in rows:
        rows.append(r["strategy"])
cutune_rows = list(rows)
jobs = [line.split() for line in open(f"{out}/jobs.txt")]
for strategy, space, k in jobs:
    if strategy == "cutune":
        continue
    row, s = "kt:" + strategy, space_name(space)
    budget.setdefault(s, int(k))
    if row not in rows:
        rows.append(row)
    base = f"{out}/kt/{s}.{strategy}"
    run, sc = load(base + ".run.json"), load(base + ".score.json")
    if sc is None:
        score[(row, s)] = "failed"
        notes.append(f"{row} on {s}: no score (see {base}.log)")
        continue
    mark = ""
    if run:
        ev = run["evaluations"]
        if run["errors"]:
            mark = "!"
            notes.append(f"{row} on {s}: {len(run['errors'])} of {len(ev)} sessions crashed, "
                         f"first: {run['errors'][0]}")
        if run["short_repeats"]:
            mark = mark or "*"
            notes.append(f"{row} on {s}: {run['short_repeats']} of {len(ev)} sessions stopped "
                         f"before the budget of {k} (evaluations: min {min(ev)}, mean "
                         f"{sum(ev) / len(ev):.0f}, max {max(ev)})")
        if run["over_budget_repeats"]:
            notes.append(f"{row} on {s}: {run['over_budget_repeats']} sessions went over the "
                         f"budget (trace cut at {k})")
    score[(row, s)] = f"{sc['score']:.3f}{mark}"

cols = sorted(budget)
w = max(len(r) for r in rows + ["winner"]) + 1
cw = max(10, max(len(c.split("-", 1)[1]) for c in cols) + 2)
lines = [f"Scores (0 = random search, 1 = optimal from the first evaluation), {repeats} "
         f"sessions per cell, budget K of each space; Kernel Tuner {version} in simulation mode",
         "spaces: " + ", ".join(c.replace("-", "/", 1) for c in cols),
         " " * w + "".join(f"{c.split('-', 1)[1]:>{cw}}" for c in cols),
         f"{'K':<{w}}" + "".join(f"{budget[c]:>{cw}}" for c in cols)]
for r in rows:
    lines.append(f"{r:<{w}}" + "".join(f"{score.get((r, c), '-'):>{cw}}" for c in cols))


def value(cell):
    try:
        return float(cell.rstrip("*!"))
    except ValueError:
        return float("-inf")


win_row, verdicts = [], []
for c in cols:
    best = {}
    for tuner, mine in (("cutune", cutune_rows), ("KT", [r for r in rows if r.startswith("kt:")])):
        cands = [(value(score.get((r, c), "-")), r) for r in mine]
        best[tuner] = max(cands) if cands else (float("-inf"), "-")
    (a, ra), (b, rb) = best["cutune"], best["KT"]
    who = "cutune" if a > b else "KT" if b > a else "tie"
    win_row.append(who)
    verdicts.append(f"{c}: {who} wins, best of cutune {ra} {a:.3f}, best of Kernel Tuner "
                    f"{rb} {b:.3f}")
lines.append(f"{'winner':<{w}}" + "".join(f"{x:>{cw}}" for x in win_row))
lines.append("")
lines += verdicts
lines.append("* some sessions stopped before the budget (their best-so-far stays flat to K)")
lines.append("! some sessions crashed (scored on what they evaluated)")
lines += notes

g = load(f"{out}/synthetic10k.bayes_opt.gaps.json")
c = load(f"{out}/synthetic10k.cutune.json")
if g:
    lo, hi = g["window"]
    lines.append("")
    lines.append(
        f"Kernel Tuner bayes_opt, time per suggestion on a 10,000-configuration synthetic "
        f"space (budget 201, {suggest_repeats} sessions, one BLAS thread): median "
        f"{g['median_ms_window']:.1f} ms over evaluations {lo}-{hi}, mean {g['mean_ms_window']:.1f}"
        f" ms there; the gap before evaluation {hi} ({hi - 1} observations): median "
        f"{g['median_ms_last']:.1f} ms; median over all evaluations {g['median_ms_all']:.1f} ms")
    if c:
        lines.append(f"cutune bo on the same space: suggestion after 200 observations "
                     f"{c['suggest_ms_last']:.2f} ms, median of all {c['suggest_ms_median']:.2f} ms "
                     f"(one thread)")
lines.append(f"wall time: {int(elapsed) // 60} min {int(elapsed) % 60} s")
print("\n".join(lines))
EOF
    tee "$OUT/table.txt"
