#!/bin/sh
# test_cli.sh — the cutune command line as a user meets it: help, version, exit codes, the
# space subcommand on the shipped specs, bad input, and `cutune device` with or without a GPU.
# usage: test_cli.sh PATH/TO/cutune SOURCE_DIR [CASE]   (each case a function case_CASE below)
CLI=$1
SRC=$2
CASE=${3:-}
SPEC=$SRC/data/spaces/convolution/spec.json
HUB=$SRC/tests/data/benchmark_hub
A4000="$SRC/data/spaces/convolution/A4000.json.gz"
A100="$SRC/data/spaces/convolution/A100.json.gz"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$(dirname "$0")/cli_checks.sh" # fail, run, has, run_cases

# help, version and usage; bench's options and SLO files
case_usage() {
run 0 --help
for c in device space occupancy tune sim profiles bench pipeline; do has out "  $c "; done
run 0 --version
has out "cutune 0.1.0"
run 2
has err "usage: cutune"
run 2 frobnicate
has err "unknown command or option 'frobnicate'"
run 2 --frobnicate
run 0 bench --help
has out "usage: cutune bench"
run 2 bench --workloads sgemm,nope
has err "no workload 'nope'"
run 2 bench --runs 5
has err "--runs must be 100 to 10000000, not '5'"
run 2 bench --budget 0
has err "--budget must be 1 to 100000, not '0'"
run 2 bench --budget -3
has err "--budget needs a non-negative integer, not '-3'"
printf '{"contracts": [{"stage": "frame", "percentile": 99.9, "limit_ms": 1}]}' >"$TMP/slo.json"
run 2 bench --slo "$TMP/slo.json"
has err "no stage 'frame'"
printf '{"contracts": [{"stage": "sgemm", "percentile": 97, "limit_ms": 1}]}' >"$TMP/slo.json"
run 2 bench --slo "$TMP/slo.json"
has err "the percentile must be 50, 90, 99, 99.9 or 100"
printf '{"contracts": [' >"$TMP/slo.json"
run 2 bench --slo "$TMP/slo.json"
has err "slo.json:1"
run 2 bench --slo "$TMP/missing.json"
run 1 bench --report "$TMP/slo.json" --slo "$SRC/bench/slo.json" --out "$TMP"
has err "slo.json: ']' expected"
}

# a report rendered again: tables, contracts judged, goals, plots where gnuplot is
case_bench_report() {
run 0 bench --report "$SRC/tests/data/bench-synthetic.json" --slo "$SRC/bench/slo.json" \
    --out "$TMP/bench"
has out "| sgemm | 4.0000 | 0.5000 | 8.00x | 1,128,128 | 25% (registers) | 34.4 TFLOP/s |"
has out "| realtime.active_inference | p99.9 | 5 | 6.4500 | fail |"
has out "| realtime.frame | p99.9 | 10 | 2.4133 | pass |"
has out "sum: at least 90% of the device's copy bandwidth: \*\*met\*\* (102)"
has out "every contract of the SLO file met: \*\*missed\*\*"
has out "| convolution | failed: a failure kept as a test case"
has out "| oscillators | not measured: NVML (libnvidia-ml.so.1) cannot be opened"
[ -s "$TMP/bench/bench-synthetic.md" ] || fail "bench --report wrote no Markdown"
if command -v gnuplot >/dev/null 2>&1; then
    for p in speedup latency convergence; do
        [ -s "$TMP/bench/bench-synthetic-$p.png" ] || fail "bench --report drew no $p plot"
    done
fi
}

# options refused before anything runs; each command's --help
case_options() {
run 2 tune kernel.cu
has err "give --spec SPEC"
run 2 pipeline --bytes 1000
has err "multiples of 16"
run 2 pipeline --chunk 8X
has err "needs a size such as 1G"
run 2 pipeline --depth 0
has err "--depth must be 1 to 16"
run 2 pipeline --compute-us-per-mb -3
has err "0 or more"
run 2 pipeline --frames 0
has err "--frames must be 1 to 10000000"
run 2 pipeline --frames 10 --oscillators 70000
has err "--oscillators is 1 to 65536"
run 2 pipeline --paced
has err "go with --frames"
run 2 tune kernel.cu --spec "$SPEC" --problem 0,5
has err "--problem takes up to three positive sizes"
run 2 tune kernel.cu --spec "$SPEC" --problem 1,2,3,4
has err "--problem takes up to three positive sizes"
run 2 tune --sim "$SRC/data/spaces/convolution/A100.json.gz" --problem 64
has err "--problem is for the GPU"
run 1 tune "$SRC/kernels/convolution.cu" --spec "$SRC/kernels/convolution.json" --problem 64,64,64 --no-store
has err "its ProblemSize has 2 dimensions, the problem size given has 3"
for p in 2 0 -0.1 100% x nan; do
    run 2 tune kernel.cu --spec "$SPEC" --precision "$p"
    has err "--precision takes a fraction in (0, 1) or a percentage"
done
# (1%: accepted; the session then needs a GPU, or says there is none)
for c in device space tune sim occupancy compile profiles pipeline bench; do
    run 0 $c --help
    has out "usage: cutune $c"
done
}

# space
case_space() {
run 0 space --spec "$SPEC" --count
[ "$(cat "$TMP/out")" = "4362" ] || fail "convolution count is $(cat "$TMP/out"), expected 4362"
run 0 space --spec "$SPEC" --count --json
has out '"valid_configurations": 4362'
has out '"raw_combinations": 10240'
run 0 space --spec "$SPEC" --list
[ "$(wc -l <"$TMP/out")" -eq 4362 ] || fail "--list printed $(wc -l <"$TMP/out") lines"
has out "^16,1,1,1,0,0,0,1,15,15$"
run 0 space --spec "$SPEC"
has out "valid         4362 configurations"
has out "default       16,16,1,1,0,1,1,1,15,15"
run 0 space --spec "$SPEC" --sample 5 --seed 3
cp "$TMP/out" "$TMP/sample1"
[ "$(wc -l <"$TMP/out")" -eq 5 ] || fail "--sample 5 printed $(wc -l <"$TMP/out") lines"
run 0 space --spec "$SPEC" --sample 5 --seed 3
cmp -s "$TMP/out" "$TMP/sample1" || fail "--sample is not deterministic for a seed"
run 0 space --spec "$SPEC" --sample 3 --json
has out '"block_size_x"'
run 0 space --spec "$SRC/data/spaces/pnpoly/spec.json" --count
[ "$(cat "$TMP/out")" = "4092" ] || fail "pnpoly count is $(cat "$TMP/out"), expected 4092"
}

# benchmark_hub's specs as they are (issue 25): Kernel Tuner's counts; a Default that is not a
# value, or Defaults that break a condition, are warnings on stderr and the nearest valid
# configuration is the default
case_benchmark_hub() {
for pair in convolution_milo:4362 dedispersion_milo:11130 gemm_milo:116928 hotspot_milo:82984; do
    run 0 space --spec "$HUB/${pair%%:*}.json" --count
    [ "$(cat "$TMP/out")" = "${pair#*:}" ] ||
        fail "${pair%%:*} counts $(cat "$TMP/out"), expected ${pair#*:}"
done
has err "^warning: .*hotspot_milo.json: ConfigurationSpace.TuningParameters\[7\] (max_tfactor).Default: 1 is not one of the values (10)"
has err "^warning: .*hotspot_milo.json: the Defaults (4096,4096,256,1,1,1,1,10,2,1; the nearest's value for max_tfactor) break ConfigurationSpace.Conditions\[1\]"
run 0 space --spec "$HUB/hotspot_milo.json"
has out "default       4096,4096,256,1,1,1,1,10,1,1"
run 0 space --spec "$HUB/hotspot_milo.json" --json
has out '"warnings": \['
has out "max_tfactor).Default: 1 is not one of the values (10)"
printf '{"ConfigurationSpace": {"TuningParameters": [{"Name": "x", "Values": [1, 2]}]}}\n' >"$TMP/nodefault.json"
run 0 space --spec "$TMP/nodefault.json"
has out "default       none"
[ -s "$TMP/err" ] && fail "a spec without Default warns: $(cat "$TMP/err")"
}

# 10^15 raw combinations with two valid ones: counted, listed and sampled by propagation
case_propagation() {
params=$(for i in $(seq 0 14); do printf '%s{"Name": "p%d", "Values": "list(range(10))"}' "$([ "$i" -gt 0 ] && echo ,)" "$i"; done)
chain=$(for i in $(seq 0 14); do printf '%sp%d' "$([ "$i" -gt 0 ] && echo ' == ')" "$i"; done)
printf '{"ConfigurationSpace": {"TuningParameters": [%s], "Conditions": [{"Expression": "%s and p0 < 2"}]}}\n' "$params" "$chain" >"$TMP/two.json"
run 0 space --spec "$TMP/two.json" --count
[ "$(cat "$TMP/out")" = "2" ] || fail "the chained space counts $(cat "$TMP/out"), expected 2"
run 0 space --spec "$TMP/two.json" --list
[ "$(cat "$TMP/out" | tr '\n' ' ')" = "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1 " ] ||
    fail "the chained space lists $(cat "$TMP/out")"
run 0 space --spec "$TMP/two.json" --sample 20 --seed 2
[ "$(sort -u "$TMP/out" | wc -l)" -eq 2 ] || fail "20 samples of the chained space: $(cat "$TMP/out")"
}

# a configuration that only an overflow makes invalid is counted and named
case_overflow() {
printf '{"ConfigurationSpace": {"TuningParameters": [{"Name": "x", "Values": "list(range(70))"}],\n "Conditions": [{"Expression": "2**x > 10"}]}}\n' >"$TMP/overflow.json"
run 0 space --spec "$TMP/overflow.json"
has out "valid         59 configurations"
has out "failing       7 configurations are invalid only because a constraint cannot be computed"
has out "the first, 63: constraint 1: column 2: '\*\*' overflows 64-bit integers"
run 0 space --spec "$TMP/overflow.json" --json
has out '"failing_configurations": 7'
}

# bad command lines and bad specs
case_bad_specs() {
run 2 space
has err "--spec FILE is required"
run 2 space --spec "$SPEC" --count --list
run 2 space --spec "$SPEC" --sample -4
run 2 space --spec "$SPEC" --sample
has err "needs a value"
run 2 space --spec "$SPEC" --seed 4
run 1 space --spec "$TMP/missing.json"
has err "missing.json: cannot open"
printf '{"ConfigurationSpace": {\n  "TuningParameters": [\n    {"Name": "x" "Values": [1]}]}}\n' >"$TMP/bad.json"
run 1 space --spec "$TMP/bad.json"
has err "bad.json:3:"
printf '{"ConfigurationSpace": {"TuningParameters": [{"Name": "x", "Values": [1, 2]}],\n "Conditions": [{"Expression": "x > y"}]}}\n' >"$TMP/name.json"
run 1 space --spec "$TMP/name.json"
has err "name.json:2:37: ConfigurationSpace.Conditions\[0\].Expression: unknown name 'y'"
head -c 3000 /dev/urandom >"$TMP/garbage.json"
run 1 space --spec "$TMP/garbage.json"
# keys join values with commas: a string value with one is refused
printf '{"ConfigurationSpace": {"TuningParameters": [{"Name": "a", "Values": ["1,2", "1"]},\n {"Name": "b", "Values": ["3", "2,3"]}]}}\n' >"$TMP/comma.json"
run 1 space --spec "$TMP/comma.json" --list
has err "parameter 'a': the value \"1,2\" contains a comma"
# long string values print whole, in keys and in JSON
long=$(printf 'x%.0s' $(seq 300))
printf '{"ConfigurationSpace": {"TuningParameters": [{"Name": "s", "Values": ["%s_a", "%s_b"]}]}}\n' "$long" "$long" >"$TMP/long.json"
run 0 space --spec "$TMP/long.json" --list
has out "^${long}_b$"
run 0 space --spec "$TMP/long.json" --list --json
has out "${long}_a"
}

# tune --sim and sim on a recorded space
case_tune_sim() {
run 0 tune --sim "$A4000" --strategy bo --budget 10 --seed 3
has out "new best"
has out "after 10 evaluations"
sed 's/; [0-9.]* s)$//' "$TMP/out" >"$TMP/tune1" # all but the time it took
run 0 tune --sim "$A4000" --strategy bo --budget 10 --seed 3
sed 's/; [0-9.]* s)$//' "$TMP/out" | cmp -s - "$TMP/tune1" || fail "tune --sim is not deterministic for a seed"
run 0 tune --sim "$A4000" --budget 5000 --strategy random --json
has out '"evaluations": 4362'
has out '"stop": "space exhausted"'
# every evaluation says when it came back, in order
[ "$(grep -c '"at_s": ' "$TMP/out")" = 4362 ] || fail "tune --json: $(grep -c '"at_s": ' "$TMP/out") at_s of 4362"
sed -n 's/.*"at_s": \([0-9.e+-]*\).*/\1/p' "$TMP/out" | awk 'NR > 1 && $1 < last {bad = 1} {last = $1} END {exit bad}' ||
    fail "tune --json: at_s goes backwards"
run 2 tune --sim "$A4000" --strategy nope
has err "unknown strategy 'nope'"
run 2 tune --sim "$A4000" --budget 0
}

# Kernel Tuner's strategy names (issue 25): its names for cutune's strategies are aliases, its
# others say what is nearest
case_strategy_names() {
run 0 tune --sim "$A4000" --strategy bayes_opt --budget 3
has out "with bo, budget 3"
run 2 tune --sim "$A4000" --strategy pso --budget 3
has err "strategy 'pso' is not in cutune; nearest: genetic"
run 2 tune --sim "$A4000" --strategy simulated_anneal --budget 3
has err "unknown strategy 'simulated_anneal'; nearest: simulated_annealing (cutune's anneal)"
run 0 sim --space "$A4000" --strategy random_sample --budget 5 --repeats 2 --json
has out '"strategy": "random"'
}

# the spec's Search and Budget are defaults the command line overrides
case_spec_search_budget() {
sed '1s/^{/{"Search": {"Name": "simulated_annealing"}, "Budget": [{"Type": "ConfigurationFraction", "BudgetValue": 0.001}, {"Type": "TuningDuration", "BudgetValue": "60*60"}],/' \
    "$SPEC" >"$TMP/search.json"
run 0 tune --sim "$A4000" --spec "$TMP/search.json"
has out "^from the spec: strategy anneal (Search.Name simulated_annealing), ConfigurationFraction 0.001 of 4362 valid configurations, budget 5, time limit 3600 s (TuningDuration)"
has out "with anneal, budget 5, seed 1"
has out "after 5 evaluations"
run 0 tune --sim "$A4000" --spec "$TMP/search.json" --strategy random --budget 2 --time-limit 100
has out "with random, budget 2"
grep -q "from the spec" "$TMP/out" && fail "the command line's choices were said to be the spec's"
sed 's/"simulated_annealing"/"diff_evo"/' "$TMP/search.json" >"$TMP/diffevo.json"
run 1 tune --sim "$A4000" --spec "$TMP/diffevo.json"
has err "diffevo.json: Search.Name: strategy 'diff_evo' is not in cutune; nearest: genetic"
has err "(--strategy NAME chooses another)"
run 0 tune --sim "$A4000" --spec "$TMP/diffevo.json" --strategy genetic_algorithm
has out "with genetic, budget 5"
sed 's/"ConfigurationFraction"/"Evaluations"/' "$TMP/search.json" >"$TMP/budget.json"
run 1 tune --sim "$A4000" --spec "$TMP/budget.json" --strategy bo
has err "budget.json: Budget\[0\].Type 'Evaluations' is not ConfigurationCount, TuningDuration or ConfigurationFraction"
sed 's/0.001}/-3}/' "$TMP/search.json" >"$TMP/budget.json"
run 1 tune --sim "$A4000" --spec "$TMP/budget.json"
has err "a ConfigurationFraction of -3: more than 0 and at most 1"
}

# the spec loader's warnings reach tune's stderr
case_spec_warnings() {
sed '0,/"Default": 16/s//"Default": 17/' "$SPEC" >"$TMP/default17.json"
run 0 tune --sim "$A4000" --spec "$TMP/default17.json" --budget 2
has err "^warning: .*default17.json: ConfigurationSpace.TuningParameters\[0\] (block_size_x).Default: 17 is not one of the values (16, 32, 48, 64, 80, 96, 112, 128, ... 8 more)"
}

# a kernel in another language than CUDA, and a problem size given for a dimension the
# configuration decides, are refused before any GPU is asked for
case_refused_before_gpu() {
run 1 tune --spec "$HUB/gemm_milo.json" --no-store
has err "gemm_milo.json: KernelSpecification.Language is \"OpenCL\": cutune compiles CUDA only"
printf '{"ConfigurationSpace": {"TuningParameters": [{"Name": "num_blocks", "Values": [64, 128]}]},\n "KernelSpecification": {"KernelName": "k", "ProblemSize": "num_blocks", "GridDivX": []}}\n' >"$TMP/blocks.json"
run 1 tune "$SRC/kernels/convolution.cu" --spec "$TMP/blocks.json" --problem 4096 --no-store
has err "blocks.json: KernelSpecification.ProblemSize\[0\] names tuning parameters (each configuration has its own): the problem size given (4096) cannot replace it"
}

# sim: a trace, another tuner's trace scored, plots, batches and evaluations in flight
case_sim() {
run 0 sim --space "$A4000" --strategy random --budget 20 --repeats 3 --seed 5 --trace "$TMP/trace.csv"
has out "convolution/A4000"
has out "median evaluations to get there"
[ "$(wc -l <"$TMP/trace.csv")" -eq 60 ] || fail "the trace has $(wc -l <"$TMP/trace.csv") lines, expected 60"
grep -qvE '^[0-2],([1-9]|1[0-9]|20),[0-9]+(,[0-9]+){9},([0-9.e+-]+|[A-Za-z]+)$' "$TMP/trace.csv" &&
    fail "trace lines not in the form repeat,k,config_key,time_or_failure"
run 0 sim --space "$A4000" --strategy random --budget 20 --repeats 3 --seed 5 --json
has out '"strategy": "random"'
has out '"repeats": 3'
has out '"budget": 20'
for key in space score optimum best_mean_at_budget evaluations_to_5pct_median; do
    has out "\"$key\": "
done
own=$(sed -n 's/.*"score": \([^,]*\),.*/\1/p' "$TMP/out")
# another tuner's trace is scored by the same code: cutune's own trace scores the same
run 0 sim --space "$A4000" --score-trace "$TMP/trace.csv" --label mine --json
scored=$(sed -n 's/.*"score": \([^,]*\),.*/\1/p' "$TMP/out")
[ -n "$own" ] && [ "$own" = "$scored" ] || fail "trace scores $scored, the sweep said $own"
printf '0,1,16,1,1,1,0,0,0,1,15,15,1.0\n0,3,16,1,1,1,0,0,0,1,15,15,1.0\n' >"$TMP/gap.csv"
run 1 sim --space "$A4000" --score-trace "$TMP/gap.csv"
has err "gap.csv:2: evaluation 3 follows 1"
printf '0,1,17,1,1,1,0,0,0,1,15,15,1.0\n' >"$TMP/alien.csv"
run 1 sim --space "$A4000" --score-trace "$TMP/alien.csv"
has err "is not a configuration of"
if command -v gnuplot >/dev/null 2>&1; then
    run 0 sim --space "$A4000" --all-strategies --repeats 2 --plot-dir "$TMP"
    for s in bo random lhs anneal genetic; do has out " $s"; done
    [ -s "$TMP/convolution-A4000.png" ] || fail "no convergence plot written"
fi
run 2 sim --space "$A4000" --strategy bo --budget 0
has err "budget must be at least 1"
run 2 sim --space "$A4000" --strategy bo --repeats 0
has err "repeats must be at least 1"
run 2 sim --space "$A4000" --strategy bo --batch 17
has err "batch must be 1 to 16"
run 0 sim --space "$A4000" --strategy bo --batch 4 --repeats 2
has out "convolution/A4000"
run 2 tune --sim "$A4000" --batch 0
has err "batch must be 1 to 16"
run 2 sim --space "$A4000" --strategy bo --in-flight 0
has err "in-flight must be 1 to 1024"
run 0 sim --space "$A4000" --strategy bo --in-flight 4 --repeats 2 --json
has out '"score": '
}

# Ctrl-C: the session reports what it has, writes its files and exits 130
case_ctrl_c() {
"$CLI" tune --sim "$A4000" --budget 400 --sim-delay-ms 20 --cache-out "$TMP/int.json" \
    >"$TMP/out" 2>"$TMP/err" &
pid=$!
sleep 1
kill -INT $pid
wait $pid
got=$?
[ $got -eq 130 ] || fail "tune stopped by SIGINT exited $got, expected 130"
has out "stopped by Ctrl-C after"
grep -q '"cache"' "$TMP/int.json" || fail "tune stopped by SIGINT wrote no --cache-out"
}

# a simulation with a delay per measurement, checkpointed with --db and resumed
case_sim_delay_resume() {
run 2 tune --sim "$A4000" --sim-delay-ms -1
has err "sim-delay-ms needs 0 to 3600000"
run 2 tune "$SRC/kernels/convolution.cu" --spec "$SRC/kernels/convolution.json" --sim-delay-ms 5
has err "sim-delay-ms goes with --sim"
run 2 tune --sim "$A4000" --resume
has err "resume needs it"
run 2 tune --sim "$A4000" --per-rank 17
has err "per-rank must be 1 to 16"
run 2 tune --sim "$A4000" --compile-threads 17
has err "--compile-threads must be 0 to 16, not '17'"
run 2 tune --sim "$A4000" --compile-threads many
has err "--compile-threads needs a non-negative integer, not 'many'"
run 0 tune --sim "$A4000" --budget 5 --compile-threads 0 --json
has out '"evaluations": 5'
run 0 tune --sim "$A4000" --budget 10 --sim-delay-ms 30 --json
has out '"evaluations": 10'
secs=$(sed -n 's/^  "seconds": \([0-9.]*\),$/\1/p' "$TMP/out")
echo "$secs" | awk '{exit !($1 >= 0.3)}' || fail "10 measurements of 30 ms took $secs s"
run 0 tune --sim "$A4000" --strategy random --budget 12 --db "$TMP/sim.db" --json
run 0 tune --sim "$A4000" --strategy random --budget 20 --seed 2 --db "$TMP/sim.db" --resume --json
has out '"restored": 12'
has out '"measured": 8'
has out '"evaluations": 20'
run 0 profiles list --db "$TMP/sim.db"
has out "NVIDIA RTX A4000"
}

# what is compared (issue 25, item 4): the options, and answer files checked before any GPU
case_verify_options() {
CONVK="$SRC/kernels/convolution.cu"
CONVS="$SRC/kernels/convolution.json"
run 2 tune "$CONVK" --spec "$CONVS" --verify none --atol 1e-3
has err "\-\-verify none compares none"
run 2 tune "$CONVK" --spec "$CONVS" --verify none --verify default
has err "goes with no other --verify"
run 2 tune "$CONVK" --spec "$CONVS" --rtol -1
has err "\-\-rtol needs a number >= 0, not '-1'"
run 2 tune --sim "$A4000" --verify none
has err "a recorded space's failures are those it recorded"
printf 'not 64 MiB of floats' >"$TMP/answer.bin"
run 1 tune "$CONVK" --spec "$CONVS" --verify "$TMP/answer.bin" --no-store
has err "answer.bin: the answer for output_image has 20 bytes, where output_image is 16777216 float elements of 4 bytes: 67108864 bytes"
printf '\223NUMPY\001\000\100\000{"descr": ">f4", "fortran_order": False, "shape": (4096, 4096)}\n' >"$TMP/answer.npy"
run 1 tune "$CONVK" --spec "$CONVS" --verify "output_image=$TMP/answer.npy" --no-store
has err "answer.npy: the answer for output_image has dtype '>f4' (big-endian: cutune reads little-endian data)"
run 2 tune "$CONVK" --spec "$CONVS" --verify "$TMP/answer.npy" --verify "$TMP/answer.bin"
has err "2 answer files for 1 output (output_image)"
run 1 tune "$CONVK" --spec "$CONVS" --verify "$TMP/missing.npy" --no-store
has err "missing.npy: cannot read the answer for output_image"
}

# most configurations failed verification: said in words, and in --json
case_verification_note() {
printf '{"device_name": "Fake GPU", "kernel_name": "k", "problem_size": [1024],
 "tune_params_keys": ["x"], "tune_params": {"x": [1, 2, 3, 4]}, "objective": "time",
 "cache": {"1": {"x": 1, "time": 2.0, "times": [2.0]},
 "2": {"x": 2, "time": "VerificationFailedConfig"}, "3": {"x": 3, "time": "VerificationFailedConfig"},
 "4": {"x": 4, "time": "VerificationFailedConfig"}}}\n' >"$TMP/vf.json"
run 0 tune --sim "$TMP/vf.json" --strategy brute --budget 4
has out "3 of 4 configurations of the recorded space failed verification when they were recorded"
run 0 tune --sim "$TMP/vf.json" --strategy brute --budget 4 --json
has out '"verification_note": "3 of 4 configurations of the recorded space failed verification'
run 0 tune --sim "$A4000" --budget 5 --json
has out '"verification_note": null'
}

# metrics and the objective (issue 25, item 5), on a recorded space
case_metrics() {
run 2 tune --sim "$A4000" --metric 'GFLOP/s'
has err "\-\-metric takes NAME=EXPRESSION, not 'GFLOP/s'"
run 2 tune --sim "$A4000" --objective work
has err "is higher better for --objective work? Say --higher-is-better or --lower-is-better"
run 2 tune --sim "$A4000" --higher-is-better
has err "\-\-higher-is-better goes with --objective NAME"
run 2 tune --sim "$A4000" --objective x --higher-is-better --lower-is-better
has err "not both"
run 1 tune --sim "$A4000" --objective nope --lower-is-better
has err "no metric 'nope': the objective is time (there are no metrics)"
run 1 tune --sim "$A4000" --metric 'x=block_size_x / tme'
has err "metric 'x' (block_size_x / tme): unknown name 'tme'"
run 1 tune --sim "$A4000" --metric 'time=1'
has err "one of Kernel Tuner's keys"
WORK='work=block_size_x * ProblemSize[0] / time'
run 0 tune --sim "$A4000" --budget 30 --metric "$WORK" --objective work --higher-is-better \
    --cache-out "$TMP/work.json" --t4-out "$TMP/work-t4.json"
has out "new best .* ms  .*  work "
has out "objective work (higher is better): the best "
has out "metrics of the best:  work "
grep -q "the fastest recorded configuration" "$TMP/out" && fail "tune --objective compared with the fastest"
grep -q '"objective": "work"' "$TMP/work.json" || fail "--cache-out lacks the objective"
grep -q '"work": ' "$TMP/work.json" || fail "--cache-out lacks the metric"
grep -q '"name": "work"' "$TMP/work-t4.json" || fail "--t4-out lacks the metric's measurement"
run 0 tune --sim "$A4000" --budget 10 --metric "$WORK" --objective work --higher-is-better --json
has out '"objective": "work"'
has out '"higher_is_better": true'
has out '"best_metrics": {'
has out '"metrics": {'
# Kernel Tuner's names know their direction; a time of 0 leaves a metric uncomputable
run 0 tune --sim "$A4000" --budget 5 --metric 'GB/s=1/time' --objective GB/s
has out "objective GB/s (higher is better)"
printf '{"device_name": "Fake GPU", "kernel_name": "k", "problem_size": [1024],
 "tune_params_keys": ["x"], "tune_params": {"x": [1, 2]}, "objective": "time",
 "cache": {"1": {"x": 1, "time": 0.0}, "2": {"x": 2, "time": 2.0}}}\n' >"$TMP/zero.json"
run 0 tune --sim "$TMP/zero.json" --strategy brute --budget 2 --metric 'rate=x/time' \
    --objective rate --higher-is-better --json
has out '"failure": "the objective rate cannot be computed here: metric rate: '
has out '"best_config": "2"'
}

# under mpirun, a cutune without cutune-mpi beside it says what is missing
case_without_mpi() {
if [ ! -x "$(dirname "$CLI")/cutune-mpi" ]; then
    OMPI_COMM_WORLD_SIZE=2 "$CLI" tune --sim "$A4000" >"$TMP/out" 2>"$TMP/err"
    [ $? -eq 1 ] || fail "tune under mpirun without cutune-mpi did not fail"
    has err "this cutune was built without MPI"
fi
}

# sim's bad input
case_sim_errors() {
run 2 sim --space "$A4000"
has err "give --strategy NAME or --all-strategies"
run 2 sim --strategy bo
has err "--space CACHE is required"
head -c 2000 "$A4000" >"$TMP/cut.json.gz"
run 1 sim --space "$TMP/cut.json.gz" --strategy bo
has err "truncated or corrupt gzip data"
run 1 sim --space "$SRC/data/spaces/pnpoly/RTX_3090.json.gz" --spec "$SPEC" --strategy bo
printf '{"tune_params_keys": ["x"], "tune_params": {"x": [1, 2]}, "cache": {"1": {"time": "InvalidConfig"}, "2": {"time": "CompilationFailedConfig"}}}' >"$TMP/failed.json"
run 1 sim --space "$TMP/failed.json" --strategy bo
has err "every configuration of the space failed"
}

# occupancy: the issue's example, JSON, the batch mode and what it does with bad lines
case_occupancy() {
run 0 occupancy --arch sm_90 --threads 256 --regs 63 --smem 8192
has out "blocks per SM    4"
has out "limited by       registers"
has out "At 48 registers per thread, 5 blocks fit"
run 0 occupancy --arch 9.0 --threads 32 --regs 8 --smem 8K --json
has out '"blocks_per_sm": 25'
has out '"shared_memory"'
has out '"smem_for_more": 7936'
run 0 occupancy --arch sm_90 --threads 1025
has out "blocks per SM    0"
has out "no block fits: 1025 threads per block exceed the limit of 1024"
run 0 occupancy --arch sm_90 --threads 1024 --regs 300 --json
has out '"reason": "300 registers per thread exceed the limit of 256"'
run 1 occupancy --arch sm_90 --threads 0
has err "0 threads per block"
run 2 occupancy --arch sm_90 --threads -4
has err "outside 0"
run 2 occupancy --arch sm_90 --threads 128 --carveout 150
run 2 occupancy --arch sm_90 --threads 128 --smem lots
has err "needs an integer"
run 1 occupancy --arch sm_31 --threads 128
has err "unknown architecture 'sm_31'; cutune knows sm_50"
run 2 occupancy --threads 128
has err "one of --arch or --device"
run 2 occupancy --arch sm_90
has err "--threads is required"
printf 'sm_90 256 63 8192\nsm_80 1024 32 0\n  sm_90   32 8 1024  \nsm_75 1024 64 0\n' >"$TMP/batch"
"$CLI" occupancy --batch <"$TMP/batch" >"$TMP/out" 2>"$TMP/err" || fail "batch: $(cat "$TMP/err")"
[ "$(tr '\n' ' ' <"$TMP/out")" = "4 2 32 1 " ] || fail "batch printed $(cat "$TMP/out")"
printf 'sm_90 256 63 8192\nsm_99 128 32 0\nsm_90 128\nsm_90 -1 32 0\nsm_90 64 32 0 extra\n%0300d\nsm_80 128 32 0\n' 7 >"$TMP/batch"
"$CLI" occupancy --batch <"$TMP/batch" >"$TMP/out" 2>"$TMP/err"
[ $? -eq 1 ] || fail "batch with bad lines should exit 1"
[ "$(tr '\n' ' ' <"$TMP/out")" = "4 error error error error error 16 " ] ||
    fail "batch with bad lines printed $(cat "$TMP/out")"
has err "line 2: unknown architecture 'sm_99'"
has err "line 3: expected 'sm_XY threads regs smem_bytes'"
has err "line 6: longer than"
run 0 occupancy --batch </dev/null
run 2 occupancy --batch --arch sm_90
}

# pruning in a session: nothing in the shipped spaces exceeds a block's limit
case_pruning() {
run 0 tune --sim "$SRC/data/spaces/pnpoly/RTX_3090.json.gz" --arch sm_90 --budget 10
has out "pruned before compiling (cannot launch on sm_90): 0 configurations"
run 0 tune --sim "$SRC/data/spaces/pnpoly/RTX_3090.json.gz" --arch sm_90 --budget 10 --json
has out '"pruned": 0'
run 1 tune --sim "$SRC/data/spaces/pnpoly/RTX_3090.json.gz" --arch sm_42 --budget 10
has err "unknown architecture 'sm_42'"
}

# compile: NVRTC without a GPU, through a cache folder of the test's own
case_compile() {
CONV="$SRC/kernels/convolution.cu"
if "$CLI" compile "$CONV" --spec "$SPEC" --config 16,16,1,1,0,1,1,1,15,15 --arch sm_90 \
        --cache-dir "$TMP/kc" >"$TMP/out" 2>"$TMP/err"; then
    has out "configuration 16,16,1,1,0,1,1,1,15,15: compiled"
    has out "3720 bytes static"
    has out "occupancy        "
    run 0 compile "$CONV" --spec "$SPEC" --config 16,16,1,1,0,1,1,1,15,15 --arch sm_90 \
        --cache-dir "$TMP/kc" --json --output "$TMP/k.cubin"
    has out '"from_cache": true'
    [ -s "$TMP/k.cubin" ] || fail "compile --output wrote no cubin"
    run 1 compile "$CONV" --spec "$SPEC" --config 16,16,1,1,0,1,1,1,15 --arch sm_90
    has err "cutune compile: "
    run 1 compile "$CONV" --spec "$SPEC" --config 256,8,1,1,0,0,1,1,15,15 --arch sm_90
    has err "violates the constraints"
    run 1 compile "$CONV" --spec "$SPEC" --config 16,16,1,1,0,1,1,1,15,15 --arch sm_31
    has err "unknown architecture 'sm_31'"
    run 1 compile "$CONV" --spec "$SPEC" --config 16,16,1,1,0,1,1,1,15,15 --arch sm_90 \
        --kernel not_there --cache-dir ""
    has err "no __global__ function 'not_there'"
    run 1 compile "$TMP/missing.cu" --spec "$SPEC" --config 16,16,1,1,0,1,1,1,15,15 --arch sm_90
    has err "cannot read"
    run 2 compile "$CONV" --spec "$SPEC"
    has err "--spec, --config and --arch are required"
else
    grep -q "NVRTC\|without the CUDA toolkit" "$TMP/err" || fail "compile: $(cat "$TMP/err")"
    echo "no NVRTC here: $(cat "$TMP/err")"
fi
}

# the space cutune recorded on the H100 with its own convolution: every valid configuration
case_h100_space() {
run 0 sim --space "$SRC/data/spaces/conv2d_H100.json.gz" --spec "$SRC/kernels/convolution.json" \
    --strategy random --repeats 2 --json
has out '"score"'
}

# bench: without a GPU, exit 3 and say why (before any tuning)
case_bench_without_gpu() {
if ! "$CLI" device >/dev/null 2>&1; then
    run 3 bench --workloads sgemm --out "$TMP/bench" --db "$TMP/bench.db" \
        --slo "$SRC/bench/slo.json"
    has err "bench: "
fi
}

# tune on the GPU: without one, exit 3 and say why
case_tune_without_gpu() {
"$CLI" tune "$SRC/kernels/convolution.cu" --spec "$SRC/kernels/convolution.json" --budget 3 \
    >"$TMP/out" 2>"$TMP/err"
case $? in
3) has err "no CUDA device found" ;;
0) has out "speedup" ;;
*) fail "tune on the GPU: $(cat "$TMP/err")" ;;
esac
run 2 tune "$SRC/kernels/convolution.cu" --spec "$SRC/kernels/convolution.json" --iterations 0
has err "--iterations must be 1 to 64"
}

# device: the binary carries the CUDA runtime and JSON library inside it
case_device() {
if command -v ldd >/dev/null 2>&1; then
    ldd "$CLI" | grep -E 'libcudart|libjansson' && fail "cutune links libcudart or libjansson dynamically"
fi
"$CLI" device >"$TMP/out" 2>"$TMP/err"
rc=$?
if [ $rc -eq 3 ]; then
    grep -q "^no CUDA device found: ." "$TMP/err" || fail "device without GPU: $(cat "$TMP/err")"
    echo "no GPU here: $(cat "$TMP/err")"
elif [ $rc -eq 0 ]; then
    has out "compute capability"
    has out "theoretical bandwidth"
    run 0 device --json
    has out '"sm_count"'
    cat "$TMP/out"
else
    fail "cutune device exited $rc: $(cat "$TMP/err")"
fi
run 2 device --bogus
}

# profiles: the store from the command line (a fresh database in $TMP)
case_profiles() {
DB="$TMP/store/p.db"
A100_NAME="NVIDIA A100-PCIE-40GB"
run 1 profiles list --db "$DB"
has err "there is no profile database at $DB"
run 0 profiles import "$A100" --db "$DB"
has out "as session 1"
run 0 profiles list --db "$DB"
has out "convolution_kernel"
has out "4096x4096"
has out "32,4,1,3,1,0,1,1,15,15"
run 0 profiles show 1 --db "$DB" --json
has out '"evaluations": 4362'
run 0 profiles select --db "$DB" --kernel convolution_kernel --problem 4096,4096 \
    --device-name "$A100_NAME" --cc 0.0 --sms 0
has out "^exact: profile 1"
run 0 profiles select --db "$DB" --kernel convolution_kernel --problem 2048,2048 \
    --device-name "$A100_NAME" --cc 0.0 --sms 0
has out "^nearest size: profile 1 (problem 4096x4096"
run 0 profiles select --db "$DB" --kernel convolution_kernel --problem 4096,4096 \
    --device-name "Some GPU" --cc 8.6 --sms 84
has out "^similar device: profile 1"
run 0 profiles select --db "$DB" --kernel other_kernel --problem 64 \
    --device-name "Some GPU" --cc 8.6 --sms 84
has out "^default: nothing is known of other_kernel"
run 0 profiles export 1 --db "$DB" -o "$TMP/export.json"
run 0 profiles export 1 --db "$DB" --format t4
has out '"schema_version": "1.0.0"'
run 0 profiles import "$TMP/export.json" --db "$TMP/again.db"
run 0 profiles export 1 --db "$TMP/again.db" -o "$TMP/export2.json"
cmp -s "$TMP/export.json" "$TMP/export2.json" || fail "export, import, export changed the file"
run 2 profiles --db "$DB"
has err "give an action"
run 2 profiles frobnicate --db "$DB"
has err "unknown action 'frobnicate'"
run 2 profiles show --db "$DB"
has err "show needs a profile ID"
run 2 profiles show abc --db "$DB"
run 1 profiles show 99 --db "$DB"
has err "has no profile 99"
run 2 profiles export 1 --format xml --db "$DB"
has err "kerneltuner or t4"
run 2 profiles prune --db "$DB"
has err "prune needs --kernel, --older-than or --all"
run 2 profiles select --db "$DB" --kernel k --problem 0 --device-name x --cc 9.0 --sms 1
has err "positive sizes"
run 1 profiles import "$TMP/nothing-here.json" --db "$DB"
printf 'not json' >"$TMP/bad.json"
run 1 profiles import "$TMP/bad.json" --db "$DB"
has err "bad.json: line 1"
printf '{"a": 1}' >"$TMP/neither.json"
run 1 profiles import "$TMP/neither.json" --db "$DB"
has err "neither a Kernel Tuner cache file"
printf '{"device_name": "d", "kernel_name": "k", "tune_params_keys": ["x"], "tune_params": {"x": [1]}, "cache": {"1": {"x": 1}}}' >"$TMP/notime.json"
run 1 profiles import "$TMP/notime.json" --db "$DB"
has err 'entry "1" has no time'
# import checks a cache as tune --sim does: a key outside its own tune_params is refused
printf '{"device_name": "d", "kernel_name": "k", "tune_params_keys": ["x"], "tune_params": {"x": [1]}, "cache": {"999": {"time": 1}}}' >"$TMP/badkey.json"
run 1 profiles import "$TMP/badkey.json" --db "$DB"
has err "'999' is not a value of 'x'"
run 1 tune --sim "$TMP/badkey.json" --budget 1
has err "'999' is not a value of 'x'"
run 0 profiles prune --kernel convolution_kernel --db "$DB"
has out "removed 1 profile"
run 0 profiles vacuum --db "$DB"
}

# garbage where a store should be is refused and left as it was, by --recover too
# (test_store_cli.sh: damaged stores, --recover, read-only folders, one run per session)
case_garbage_store() {
head -c 3000 /dev/urandom >"$TMP/garbage.db"
cp "$TMP/garbage.db" "$TMP/garbage.orig"
run 1 profiles list --db "$TMP/garbage.db"
has err "is not an SQLite database"
run 1 profiles import "$A100" --db "$TMP/garbage.db"
has err "left as it is"
run 1 profiles --recover --db "$TMP/garbage.db"
has err "is not a profile store"
cmp -s "$TMP/garbage.db" "$TMP/garbage.orig" || fail "a file that is no store was written to"
}

run_cases "$CASE"

if [ $fails -ne 0 ]; then
    echo "$fails CLI check(s) failed" >&2
    exit 1
fi
echo "all CLI checks passed"
