#!/bin/sh
# test_cli.sh — the cutune command line as a user meets it: help, version, exit codes, the
# space subcommand on the shipped specs, bad input, and `cutune device` with or without a GPU.
# usage: test_cli.sh PATH/TO/cutune SOURCE_DIR
CLI=$1
SRC=$2
SPEC=$SRC/data/spaces/convolution/spec.json
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
fails=0

fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# run EXPECTED_EXIT ARGS...: runs the CLI, keeps stdout/stderr in $TMP/out and $TMP/err
run() {
    want=$1
    shift
    "$CLI" "$@" >"$TMP/out" 2>"$TMP/err"
    got=$?
    [ "$got" -eq "$want" ] || fail "cutune $* exited $got, expected $want: $(cat "$TMP/err")"
}
has() { grep -q -- "$2" "$TMP/$1" || fail "$1 of the last command lacks '$2': $(cat "$TMP/$1")"; }

run 0 --help
for c in device space occupancy tune sim profiles bench pipeline; do has out "  $c "; done
run 0 --version
has out "cutune 0.1.0"
run 2
has err "usage: cutune"
run 2 frobnicate
has err "unknown command or option 'frobnicate'"
run 2 --frobnicate
run 2 occupancy kernel.cu
has err "not implemented yet"
run 0 occupancy --help
has out "Not implemented yet"
run 2 tune kernel.cu
has err "tuning on a GPU is not implemented yet"
for c in device space tune sim; do
    run 0 $c --help
    has out "usage: cutune $c"
done

# space
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

# bad command lines and bad specs
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

# device: the binary carries the CUDA runtime and JSON library inside it
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

if [ $fails -ne 0 ]; then
    echo "$fails CLI check(s) failed" >&2
    exit 1
fi
echo "all CLI checks passed"
