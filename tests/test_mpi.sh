#!/bin/sh
# test_mpi.sh — distributed `cutune tune` under mpirun, on recorded spaces (no GPU): 1 to 4
# ranks spend the budget on distinct configurations (random search: the very ones a single
# process picks, failures included); 4 ranks finish 200 measurements of 50 ms at least 3x
# faster than 1, as many distinct configurations and a best no worse over seeds; BO as 4
# ranks run it scores as well as BO one at a time; a rank that dies, then the whole job
# killed: --resume finishes the budget and measures nothing twice; bad input. Skipped (77)
# without cutune-mpi or mpirun.
# usage: test_mpi.sh PATH/TO/cutune SOURCE_DIR [optimised|sanitized [CASE]]   (sanitized:
# timings not held to, as in test_speed: the driver's own work is several times slower there;
# each case a function case_CASE below)
CLI=$1
SRC=$2
BUILD=${3:-optimised}
CASE=${4:-}
[ -x "$(dirname "$CLI")/cutune-mpi" ] || { echo "skipped: built without MPI (no cutune-mpi)"; exit 77; }
command -v mpirun >/dev/null 2>&1 || { echo "skipped: no mpirun (scripts/deps.sh installs Open MPI)"; exit 77; }
# Open MPI refuses root unless told; containers may forbid its cross-memory copies
if [ "$(id -u)" -eq 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
export OMPI_MCA_btl_vader_single_copy_mechanism=none
# (sanitized builds) what Open MPI keeps past MPI_Finalize is its own: its components stay
# loaded so that LeakSanitizer can name them, and the suppressions do
export OMPI_MCA_mca_base_component_disable_dlclose=1 PMIX_MCA_mca_base_component_disable_dlclose=1
LEAKS="suppressions=$SRC/tests/lsan_mpi.supp:fast_unwind_on_malloc=0"
# (naming Open MPI's frames takes the slow unwinder, which makes every allocation slow: one
# job below is checked for leaks, the rest not; the library's own are, by the C tests)
export ASAN_OPTIONS=detect_leaks=0
MPIRUN="mpirun --oversubscribe --bind-to none"
SGEMM=$SRC/data/spaces/cutune/sgemm_H200.json.gz   # 1525 configurations, one optimum
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/cli_checks.sh" # fail, run_cases
# a small recorded space (16 x 12) with a valley, a fifth of it failed
BOWL=$TMP/bowl.json
awk 'BEGIN {
    printf "{\"device_name\": \"test GPU\", \"kernel_name\": \"bowl\", \"tune_params_keys\": "
    printf "[\"x\", \"y\"], \"tune_params\": {\"x\": ["
    for (i = 1; i <= 16; i++) printf "%s%d", (i > 1 ? ", " : ""), i
    printf "], \"y\": ["
    for (i = 1; i <= 12; i++) printf "%s%d", (i > 1 ? ", " : ""), i
    printf "]}, \"cache\": {"
    for (x = 1; x <= 16; x++)
        for (y = 1; y <= 12; y++) {
            t = sprintf("%.3f", 1 + (x - 9) * (x - 9) * 0.1 + (y - 4) * (y - 4) * 0.05)
            if ((x * 7 + y * 3) % 5 == 0)
                t = "\"RuntimeFailedConfig\""
            printf "%s\"%d,%d\": {\"x\": %d, \"y\": %d, \"time\": %s}", (n++ ? ", " : ""), x, y, x, y, t
        }
    printf "}}\n"
}' >"$BOWL"

# tune NP OUT ARGS...: mpirun -np NP cutune tune ARGS --json > OUT; the wall time in $TMP/wall
tune() {
    np=$1 out=$2
    shift 2
    t0=$(date +%s%N)
    $MPIRUN -np "$np" "$CLI" tune "$@" --json >"$out" 2>"$out.err"
    rc=$?
    echo "$(( ($(date +%s%N) - t0) / 1000000 ))" >"$TMP/wall"
    [ $rc -eq 0 ] || fail "mpirun -np $np cutune tune $* exited $rc: $(cat "$out.err")"
}
field() { sed -n "s/^  \"$2\": \(.*\),\{0,1\}$/\1/p" "$1" | sed 's/,$//' | head -1; }
distinct() { grep -o '"config": "[^"]*"' "$1" | sort -u | wc -l; }
configs() { grep -o '"config": "[^"]*"' "$1" | sort; }

# --- 1 to 4 ranks: random search picks the same configurations as one process does ------
case_ranks() {
"$CLI" tune --sim "$BOWL" --strategy random --budget 90 --seed 4 --json >"$TMP/one.json" ||
    fail "cutune tune --sim (one process) failed"
configs "$TMP/one.json" >"$TMP/one.configs"
for np in 1 2 3 4; do
    [ $np = 3 ] && export ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS="$LEAKS" # the one checked
    tune $np "$TMP/r$np.json" --sim "$BOWL" --strategy random --budget 90 --seed 4 --sim-delay-ms 10
    export ASAN_OPTIONS=detect_leaks=0
    [ "$(field "$TMP/r$np.json" evaluations)" = 90 ] || fail "-np $np: $(field "$TMP/r$np.json" evaluations) evaluations"
    [ "$(field "$TMP/r$np.json" ranks)" = $np ] || fail "-np $np: the report says $(field "$TMP/r$np.json" ranks) ranks"
    # each rank's share: one entry a rank, the shares adding up to the budget
    shares=$(sed -n 's/^      "evaluations": \([0-9]*\),$/\1/p' "$TMP/r$np.json")
    [ "$(echo "$shares" | wc -l)" = $np ] && [ "$(echo "$shares" | awk '{s += $1} END {print s}')" = 90 ] ||
        fail "-np $np: per-rank evaluations $(echo $shares) (want $np ranks adding up to 90)"
    configs "$TMP/r$np.json" | cmp -s - "$TMP/one.configs" ||
        fail "-np $np: random search measured other configurations than one process did"
    [ "$(field "$TMP/r$np.json" failed)" = "$(field "$TMP/one.json" failed)" ] &&
        [ "$(field "$TMP/one.json" failed)" -gt 0 ] ||
        fail "-np $np: $(field "$TMP/r$np.json" failed) failed, one process $(field "$TMP/one.json" failed)"
    [ "$(field "$TMP/r$np.json" best_ms)" = "$(field "$TMP/one.json" best_ms)" ] ||
        fail "-np $np: best $(field "$TMP/r$np.json" best_ms), one process $(field "$TMP/one.json" best_ms)"
done
}

# every strategy runs distributed, each configuration once; the space runs out
case_strategies() {
for s in bo lhs anneal genetic brute; do
    tune 3 "$TMP/s.json" --sim "$BOWL" --strategy $s --budget 60
    [ "$(distinct "$TMP/s.json")" = 60 ] || fail "-np 3 --strategy $s: $(distinct "$TMP/s.json") distinct of 60"
done
tune 4 "$TMP/s.json" --sim "$BOWL" --strategy bo --budget 1000
[ "$(distinct "$TMP/s.json")" = 192 ] && grep -q '"stop": "space exhausted"' "$TMP/s.json" ||
    fail "-np 4 over the whole space: $(distinct "$TMP/s.json") distinct of 192"
}

# --- 200 measurements of 50 ms: 4 ranks at least 3x faster than 1, and no worse -----------
# (the session's wall time, from its first measurement to its report; mpirun's start and
# MPI_Init's come on top, about 0.5 s here, and are printed too)
case_speedup() {
DELAY=50
[ "$BUILD" = sanitized ] && DELAY=0 # (no timing there: the searches only)
tune 1 "$TMP/w1.json" --sim "$SGEMM" --budget 200 --seed 1 --sim-delay-ms $DELAY
wall1=$(cat "$TMP/wall") session1=$(field "$TMP/w1.json" seconds)
tune 4 "$TMP/w4.json" --sim "$SGEMM" --budget 200 --seed 1 --sim-delay-ms $DELAY
wall4=$(cat "$TMP/wall") session4=$(field "$TMP/w4.json" seconds)
echo "bo, 200 measurements of 50 ms on sgemm_H200: -np 1 $session1 s ($wall1 ms with mpirun)," \
     "-np 4 $session4 s ($wall4 ms)"
if [ "$BUILD" = sanitized ]; then
    echo "(a sanitized build: the speedup is not held to 3x)"
else
    echo "$session4 $session1" | awk '{exit !($1 * 3 <= $2)}' ||
        fail "-np 4's session took $session4 s, -np 1's $session1 s: less than 3x faster"
fi
for np in 1 4; do
    [ "$(distinct "$TMP/w$np.json")" = 200 ] || fail "-np $np measured $(distinct "$TMP/w$np.json") distinct configurations, not 200"
done
sum1=0 sum4=0 seeds="1 2 3"
[ "$BUILD" = sanitized ] && seeds=1 # (slow there; the searches are the optimised build's)
for seed in $seeds; do # the search does not depend on the delay: seeds 2 and 3 without it
    [ $seed = 1 ] || tune 1 "$TMP/w1.json" --sim "$SGEMM" --budget 200 --seed $seed
    [ $seed = 1 ] || tune 4 "$TMP/w4.json" --sim "$SGEMM" --budget 200 --seed $seed --sim-delay-ms $DELAY
    sum1=$(echo "$sum1 $(field "$TMP/w1.json" best_ms)" | awk '{print $1 + $2}')
    sum4=$(echo "$sum4 $(field "$TMP/w4.json" best_ms)" | awk '{print $1 + $2}')
done
echo "summed best over seeds $seeds: -np 1 $sum1 ms, -np 4 $sum4 ms"
echo "$sum4 $sum1" | awk '{exit !($1 <= $2 * 1.000001)}' || fail "-np 4's best ($sum4 summed over seeds) is worse than -np 1's ($sum1)"
}

# --- BO as 4 ranks run it (8 in flight, batches of 4) against BO one at a time, scored -----
# with the simulation methodology over 10 seeds on three spaces (cutune sim --in-flight: the
# same search as the driver's, results returning in order as from equally fast GPUs)
case_bo_in_flight() {
score() { grep -o '"score": [0-9.e-]*' "$1" | awk '{s += $2; n++} END {printf "%.4f", s / n}'; }
for run in "1 1" "8 4"; do
    [ "$BUILD" = sanitized ] && break # (the same code runs in test_search there)
    set -- $run
    "$CLI" sim --space "$SGEMM" --space "$SRC/data/spaces/pnpoly/RTX_3090.json.gz" \
        --space "$SRC/data/spaces/convolution/A6000.json.gz" --strategy bo --repeats 10 --in-flight $1 --batch $2 --json \
        >"$TMP/score$1.json" || fail "cutune sim --in-flight $1 --batch $2 failed"
done
if [ "$BUILD" != sanitized ]; then
    seq=$(score "$TMP/score1.json") par=$(score "$TMP/score8.json")
    echo "BO scored over 3 spaces x 10 seeds: one at a time $seq, 8 in flight in batches of 4 $par"
    echo "$par $seq" | awk '{exit !($1 >= $2 - 0.1 && $1 > 0.5)}' ||
        fail "BO with 8 in flight scores $par, one at a time $seq"
fi
}

# --- a rank dies, then the whole job is killed: --resume finishes the budget --------------
# the processes of a job started with setsid: its session; rank N by its environment
case_rank_dies() {
job_pids() { ps -eo pid=,sid= | awk -v s="$1" '$2 == s && $1 != s {print $1}'; }
rank_pid() {
    for p in $(job_pids "$1"); do
        tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$2" && echo "$p"
    done | head -1
}
stored() { "$CLI" profiles export 1 --db "$TMP/p.db" --format kerneltuner 2>/dev/null | grep -c '"time":'; }
KILL_DELAY=50
[ "$BUILD" = sanitized ] && KILL_DELAY=100 # (there each look into the store takes longer)
# start JOB_ARGS...: a job in its own session, in the background; its session id in $job
start() {
    setsid $MPIRUN -np 4 "$CLI" tune --sim "$SGEMM" --budget 400 --sim-delay-ms $KILL_DELAY \
        --db "$TMP/p.db" "$@" >"$TMP/job.out" 2>"$TMP/job.err" &
    job=$!
}
# until_stored N: waits (at most 60 s) for the job to have stored N evaluations
until_stored() {
    until=$(($(date +%s) + 60))
    while [ "$(stored)" -lt "$1" ] && [ "$(date +%s)" -lt $until ]; do sleep 0.2; done
}
start --seed 7
until_stored 40
victim=$(rank_pid $job 2)
[ -n "$victim" ] && kill -9 "$victim" || fail "no rank 2 to kill"
wait $job
rc=$?
[ $rc -ne 0 ] || fail "a job whose rank died exited 0"
grep -q "exited on signal 9" "$TMP/job.err" || fail "mpirun did not say which rank died: $(cat "$TMP/job.err")"
# rank 0 says how to go on when mpirun's SIGTERM reaches it; mpirun may also tear the job
# down before it forwards those words (1 run in about 6 here), so their absence is noted only:
# what matters, that nothing finished is lost, is checked below
grep -q "with --resume goes on" "$TMP/job.err" ||
    echo "note: rank 0's words were not forwarded by mpirun this time: $(tail -3 "$TMP/job.err")"
for p in $(job_pids $job); do kill -9 "$p" 2>/dev/null; done # none should be left
first=$(stored)
[ "$first" -gt 0 ] && [ "$first" -lt 300 ] || fail "after the rank died the store holds $first evaluations"
# resumed, then that job killed whole (every process of it at once, as a crash would)
start --seed 7 --resume
until_stored $((first + 30))
for p in $(job_pids $job); do kill -9 "$p"; done
wait $job
second=$(stored)
[ "$second" -gt "$first" ] && [ "$second" -lt 400 ] || fail "the second job stored $first, then $second"
tune 3 "$TMP/last.json" --sim "$SGEMM" --budget 400 --sim-delay-ms 5 --db "$TMP/p.db" --resume --seed 7
[ "$(field "$TMP/last.json" evaluations)" = 400 ] || fail "resumed: $(field "$TMP/last.json" evaluations) evaluations"
[ "$(field "$TMP/last.json" restored)" = "$second" ] || fail "resumed: $(field "$TMP/last.json" restored) restored, the store had $second"
[ "$(field "$TMP/last.json" measured)" = $((400 - second)) ] || fail "resumed: measured $(field "$TMP/last.json" measured), not the $((400 - second)) left"
[ "$(distinct "$TMP/last.json")" = 400 ] || fail "resumed: $(distinct "$TMP/last.json") distinct configurations"
[ "$(stored)" = 400 ] || fail "the store holds $(stored) evaluations, not 400"
echo "resume (budget 400): $first evaluations stored when rank 2 died, $second when the job was killed; the third measured $((400 - second))"
}

# --- bad input ----------------------------------------------------------------------------
case_bad_input() {
$MPIRUN -np 5 "$CLI" tune --sim "$SGEMM" --budget 4 >"$TMP/out" 2>"$TMP/err"
[ $? -eq 2 ] && grep -q "5 ranks for a budget of 4" "$TMP/err" || fail "-np 5 for a budget of 4: $(cat "$TMP/err")"
$MPIRUN -np 2 "$CLI" tune --sim "$TMP/none.json" >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] && grep -q "rank 0 (.*): .*none.json" "$TMP/err" || fail "a missing space: $(cat "$TMP/err")"
}

run_cases "$CASE"

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "test_mpi: all passed"
