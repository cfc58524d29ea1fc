# cli_checks.sh — what the shell tests of the CLI share (sourced, after CLI and TMP are set):
# fail counts a failed check; run EXPECTED_EXIT ARGS... runs the CLI and keeps its stdout and
# stderr in $TMP/out and $TMP/err; has out|err TEXT checks the last command said TEXT.
# run_cases [CASE] runs the script's cases (each a function case_NAME() at the start of a
# line, its body left at the margin; tests/CMakeLists.txt registers each as SCRIPT/NAME) in
# their order, or CASE alone, and says which failed.
fails=0
cases_script=$(cd "$(dirname "$0")" && pwd)/$(basename "$0") # (before a script's cd)

fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

run() {
    want=$1
    shift
    "$CLI" "$@" >"$TMP/out" 2>"$TMP/err"
    got=$?
    [ "$got" -eq "$want" ] || fail "cutune $* exited $got, expected $want: $(cat "$TMP/err")"
}
has() { grep -q -- "$2" "$TMP/$1" || fail "$1 of the last command lacks '$2': $(cat "$TMP/$1")"; }

run_cases() {
    names=$(sed -n 's/^case_\([a-z0-9_]*\)() *{.*/\1/p' "$cases_script")
    if [ -n "${1:-}" ]; then
        if ! echo "$names" | grep -qx -- "$1"; then
            echo "$cases_script: no case '$1'; its cases:" $names >&2
            exit 2
        fi
        names=$1
    fi
    for name in $names; do
        before=$fails
        "case_$name"
        [ "$fails" -eq "$before" ] || echo "case $name: $((fails - before)) check(s) failed" >&2
    done
}
