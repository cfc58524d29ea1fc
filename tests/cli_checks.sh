# cli_checks.sh — what the shell tests of the CLI share (sourced, after CLI and TMP are set):
# fail counts a failed check; run EXPECTED_EXIT ARGS... runs the CLI and keeps its stdout and
# stderr in $TMP/out and $TMP/err; has out|err TEXT checks the last command said TEXT.
fails=0

fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

run() {
    want=$1
    shift
    "$CLI" "$@" >"$TMP/out" 2>"$TMP/err"
    got=$?
    [ "$got" -eq "$want" ] || fail "cutune $* exited $got, expected $want: $(cat "$TMP/err")"
}
has() { grep -q -- "$2" "$TMP/$1" || fail "$1 of the last command lacks '$2': $(cat "$TMP/$1")"; }
