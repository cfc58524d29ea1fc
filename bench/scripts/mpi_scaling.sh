#!/bin/sh
# mpi_scaling.sh — distributed tuning's scaling on this machine: mpirun -np 1..N of cutune tune
# on a recorded space with a delay per measurement standing in for the GPU, a few seeds each;
# prints a Markdown table: ranks, the session's wall time and mpirun's, the speedup over one
# rank, configurations measured (distinct), the mean best found over the seeds, and the
# sessions' score with the simulation methodology (cutune sim --score-trace: their
# best-so-far in the order results came back, against random search; 1 is optimal at once).
# usage: bench/scripts/mpi_scaling.sh [BUILD] [SPACE] [BUDGET] [DELAY_MS] [MAX_RANKS] [SEEDS]
set -eu
build=${1:-build}
space=${2:-data/spaces/cutune/sgemm_H200.json.gz}
budget=${3:-200}
delay=${4:-50}
max=${5:-4}
seeds=${6:-3}
[ "$(id -u)" -ne 0 ] || export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
field() { sed -n "s/^  \"$2\": \([^,]*\),\{0,1\}$/\1/p" "$1" | head -1; }
out=$(mktemp) trace=$(mktemp)
trap 'rm -f "$out" "$trace"' EXIT
# the JSON history of a session as trace lines: repeat,k,config,time_or_failure
to_trace() {
    awk -v r="$2" '/"k": / {gsub(/[^0-9]/, "", $2); k = $2}
        /"config": / {c = $2; gsub(/"/, "", c); sub(/,$/, "", c)}
        /"time_ms": / {t = $2; gsub(/,/, "", t); print r "," k "," c "," t}
        /"failure": / {t = $2; gsub(/[",]/, "", t); print r "," k "," c "," t}' "$1"
}
echo "bo on $space, budget $budget, $delay ms per measurement, seeds 1-$seeds:"
echo "mpirun --oversubscribe --bind-to none -np N $build/cutune tune --sim $space --budget $budget --sim-delay-ms $delay --seed S --json"
echo
echo "| ranks | session wall time (s) | with mpirun (s) | speedup | distinct configurations | mean best (ms) | optimum (ms) | score |"
echo "|---|---|---|---|---|---|---|---|"
base=""
np=1
while [ $np -le "$max" ]; do
    session=0 total=0 best=0 distinct=0
    : >"$trace"
    seed=1
    while [ $seed -le "$seeds" ]; do
        t0=$(date +%s%N)
        mpirun --oversubscribe --bind-to none -np $np "$build/cutune" tune --sim "$space" \
            --budget "$budget" --sim-delay-ms "$delay" --seed $seed --json >"$out"
        t1=$(date +%s%N)
        session=$(echo "$session $(field "$out" seconds)" | awk '{print $1 + $2}')
        total=$(echo "$total $t0 $t1" | awk '{print $1 + ($3 - $2) / 1e9}')
        best=$(echo "$best $(field "$out" best_ms)" | awk '{print $1 + $2}')
        distinct=$(echo "$distinct $(grep -o '"config": "[^"]*"' "$out" | sort -u | wc -l)" | awk '{print $1 + $2}')
        optimum=$(field "$out" recorded_optimum_ms)
        to_trace "$out" $((seed - 1)) >>"$trace"
        seed=$((seed + 1))
    done
    session=$(echo "$session $seeds" | awk '{printf "%.2f", $1 / $2}')
    total=$(echo "$total $seeds" | awk '{printf "%.2f", $1 / $2}')
    base=${base:-$session}
    echo "| $np | $session | $total | $(echo "$base $session" | awk '{printf "%.2fx", $1 / $2}') |" \
        "$(echo "$distinct $seeds" | awk '{print $1 / $2}') |" \
        "$(echo "$best $seeds" | awk '{printf "%.4f", $1 / $2}') | $(echo "$optimum" | awk '{printf "%.4f", $1}') |" \
        "$("$build/cutune" sim --space "$space" --score-trace "$trace" --json | sed -n 's/.*"score": \([0-9.e-]*\).*/\1/p' | awk '{printf "%.3f", $1}') |"
    np=$((np + 1))
done
