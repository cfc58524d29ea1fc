#!/bin/sh
# test_hostile.sh — strings a user downloads (a cache file's names, a file's own name, a report's
# fields) never reach an interpreter: each hostile string below tries to run a command that
# leaves a marker file, through gnuplot (sim --plot-dir, bench --report), SQL (the store) and the
# shell; and every file cutune writes appears whole or not at all (a write cut short by a file
# size limit leaves the old file as it was).
# usage: test_hostile.sh PATH/TO/cutune SOURCE_DIR [CASE]   (each case a function case_CASE
#        below) prints, for each case of hostile strings, "hostile strings that reached an
#        interpreter: N of M" and fails unless N is 0
CLI=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") # (the commands run in another folder)
SRC=$(cd "$2" && pwd)
CASE=${3:-}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$SRC/tests/cli_checks.sh" # fail, run, has, run_cases

SPACE=$SRC/data/spaces/pnpoly/RTX_3090.json.gz
M=$TMP/marks
mkdir "$M"
cd "$M" || exit 1

# Hostile string number N, as JSON string content: each would create the file mark-N in the
# current folder ($M, where every command here runs) if a gnuplot, SQL or shell parser ran it.
count=8
hostile() {
    case $1 in
    1) printf '%s' "H200'; system('touch mark-1'); print '" ;;
    2) printf '%s' '`touch mark-2`' ;;
    3) printf '%s' "\\\"; system(\\\"touch mark-3\\\"); print \\\"" ;;
    4) printf '%s' "x\\nsystem('touch mark-4')\\n" ;;
    5) printf '%s' "x\\\\'; system('touch mark-5'); #" ;;
    6) printf '%s' '$(touch mark-6)' ;;
    7) printf '%s' "x'); DROP TABLE profiles; SELECT writefile('mark-7', 'x'); --" ;;
    8) printf '%s' "x' || system('touch mark-8') || '" ;;
    esac
}

# The text as the replacement of a sed s||| command.
sed_escape() { sed 's/[\\&|]/\\&/g'; }

# A copy of the recorded space with its device and kernel named by hostile string N.
named_space() {
    name=$(hostile "$1" | sed_escape)
    gzip -dc "$SPACE" | sed -e "s|\"device_name\": \"[^\"]*\"|\"device_name\": \"$name\"|" \
        -e "s|\"kernel_name\": \"[^\"]*\"|\"kernel_name\": \"$name\"|" >"$2"
}

# $TMP/space-N.json for each hostile string N (as the gnuplot case makes them)
named_spaces() {
    for n in $(seq $count); do
        [ -e "$TMP/space-$n.json" ] || named_space $n "$TMP/space-$n.json"
    done
}

# the named spaces imported into $TMP/p.db (as the SQL case does)
stored_spaces() {
    named_spaces
    [ -e "$TMP/p.db" ] && return
    n=1
    while [ $n -le $count ]; do
        run 0 profiles import "$TMP/space-$n.json" --db "$TMP/p.db"
        n=$((n + 1))
    done
}

# none of the hostile strings a case gave cutune ($1 of them) ran a command
none_reached() {
    reached=$(ls "$M" | wc -l)
    echo "hostile strings that reached an interpreter: $reached of $1"
    [ "$reached" -eq 0 ] || fail "hostile strings ran commands: $(ls "$M")"
}

# gnuplot: the device name in the title, the space's file name in the title and the data
# path, the output folder's name in every path
case_gnuplot_sim() {
n=1
while [ $n -le $count ]; do
    named_space $n "$TMP/space-$n.json"
    run 0 sim --space "$TMP/space-$n.json" --strategy random --repeats 2 --plot-dir "$TMP/plots"
    n=$((n + 1))
done
for n in 1 2 6 8; do # names a file may have
    file="$TMP/$(hostile $n).json"
    cp "$TMP/space-1.json" "$file"
    run 0 sim --space "$file" --strategy random --repeats 2 --plot-dir "$TMP/plots"
    dir="$TMP/o$(hostile $n)"
    run 0 sim --space "$TMP/space-1.json" --strategy random --repeats 2 --plot-dir "$dir"
    ls "$dir"/*.dat >/dev/null 2>&1 || fail "sim --plot-dir $dir wrote no data"
done
# a line break in a file name: one character of gnuplot's, still only a string
file="$TMP/a
system('touch mark-9')
.json"
cp "$TMP/space-1.json" "$file"
run 0 sim --space "$file" --strategy random --repeats 2 --plot-dir "$TMP/plots"
if command -v gnuplot >/dev/null 2>&1; then
    [ "$(ls "$TMP/plots"/*.png | wc -l)" -ge $count ] || fail "sim drew fewer plots than spaces"
fi
ls -a "$TMP/plots" | grep -q '\.cutune-plot-\|\.tmp-' && fail "plots left temporary files"
none_reached $((count + 4 * 2 + 1))
}

# gnuplot again: a bench report's device, workload and stage names
case_gnuplot_bench() {
n=1
while [ $n -le $count ]; do
    name=$(hostile $n | sed_escape)
    sed -e "s|\"device\": \"[^\"]*\"|\"device\": \"$name\"|" \
        -e "s|\"name\": \"sgemm\"|\"name\": \"$name\"|" \
        -e "s|\"realtime.frame\"|\"$name\"|" \
        "$SRC/tests/data/bench-synthetic.json" >"$TMP/report-$n.json"
    run 0 bench --report "$TMP/report-$n.json" --slo "$SRC/bench/slo.json" --out "$TMP/rep"
    n=$((n + 1))
done
ls -a "$TMP/rep" | grep -q '\.cutune-plot-\|\.tmp-' && fail "plots left temporary files"
none_reached $count
}

# SQL: the names stored, listed, selected and exported as they are
case_sql() {
stored_spaces
run 0 profiles list --db "$TMP/p.db"
has out "$count profiles in"
run 0 profiles export 7 --db "$TMP/p.db" -o "$TMP/export-7.json"
grep -q 'DROP TABLE profiles' "$TMP/export-7.json" || fail "export lost a stored name"
none_reached $count
}

# the terminal: a name is shown without the control characters a terminal acts on (an escape
# sequence that sets the window's title, colours, a bell)
case_terminal() {
gzip -dc "$SPACE" |
    sed 's|"device_name": "[^"]*"|"device_name": "\\u001b]2;pwned\\u0007\\u001b[31mred"|' \
        >"$TMP/escape.json"
run 0 profiles import "$TMP/escape.json" --db "$TMP/escape.db"
run 0 profiles list --db "$TMP/escape.db"
has out "?]2;pwned??\[31mred"
run 0 profiles show 1 --db "$TMP/escape.db"
run 0 tune --sim "$TMP/escape.json" --budget 2
esc=$(printf '\033')
grep -q "$esc" "$TMP/out" && fail "tune --sim printed an escape character from a file"
}

# writes stay in the folder given: a space reached through ../ still plots into --plot-dir
case_plot_dir_confined() {
named_spaces
mkdir -p "$TMP/deep/a" "$TMP/pd"
cp "$TMP/space-1.json" "$TMP/deep/evil.json"
: >"$TMP/stamp"
run 0 sim --space "$TMP/deep/a/../../deep/evil.json" --strategy random --repeats 1 \
    --plot-dir "$TMP/pd"
outside=$(find "$TMP" -newer "$TMP/stamp" -type f ! -path "$TMP/pd/*" ! -name out ! -name err)
[ -z "$outside" ] || fail "sim --plot-dir wrote outside its folder: $outside"
ls "$TMP/pd"/*.dat >/dev/null 2>&1 || fail "sim --plot-dir $TMP/pd wrote no data"
}

# --plot-dir: made when missing, refused when a file
case_plot_dir() {
run 0 sim --space "$SPACE" --strategy random --repeats 1 --plot-dir "$TMP/new/deeper"
[ -d "$TMP/new/deeper" ] || fail "sim --plot-dir did not make its folder"
: >"$TMP/afile"
run 1 sim --space "$SPACE" --strategy random --repeats 1 --plot-dir "$TMP/afile"
has err "cannot make the folder"
}

# a long path is never cut short into another file's name: a report named at 1,192 bytes of
# folder (where a path buffer once ended after "report") or with a 215-byte name (where one
# ended after 199) goes to its own name, and the file the cut name would be keeps its bytes
case_long_paths() {
long=$TMP/long
while [ ${#long} -lt 1000 ]; do long=$long/$(printf '%0100d' 0); done
long=$long/$(printf '%0*d' $((1192 - ${#long} - 1)) 0)
mkdir -p "$long"
cp "$SRC/tests/data/bench-synthetic.json" "$TMP/report-long.json"
echo keep >"$long/report.json"
run 0 bench --report "$TMP/report-long.json" --slo "$SRC/bench/slo.json" --out "$long"
[ "$(cat "$long/report.json")" = keep ] || fail "bench --out LONG wrote over a file of a cut path"
[ -s "$long/report-long.json" ] || fail "bench --out LONG did not write report-long.json"
name=$(printf 'r%.0s' $(seq 215))
cp "$SRC/tests/data/bench-synthetic.json" "$TMP/$name.json"
mkdir "$TMP/named"
echo keep >"$TMP/named/$(printf '%.199s' "$name").json"
run 0 bench --report "$TMP/$name.json" --slo "$SRC/bench/slo.json" --out "$TMP/named"
[ "$(cat "$TMP/named/$(printf '%.199s' "$name").json")" = keep ] ||
    fail "bench --report with a long name wrote over a file of its name cut short"
[ -s "$TMP/named/$name.json" ] || fail "bench --report with a long name did not write its report"
}

# Whole or not at all: a file size limit cuts each write short (as a full disk would); the
# file that was there must stay as it was, and no temporary file may stay beside it
case_whole_or_nothing() {
cutoff() { # cutoff FILE ARGS...: runs cutune ARGS under a file size limit of $blocks blocks
    # (dash's are 512 bytes, bash's 1 KiB), which must stop it as it writes FILE
    f=$1
    shift
    echo "old content" >"$f"
    (trap '' XFSZ; ulimit -f "${blocks:-8}"; "$CLI" "$@") >"$TMP/out" 2>"$TMP/err"
    got=$?
    [ "$got" -eq 1 ] || fail "cutune $* under a file size limit exited $got, expected 1"
    has err "cannot write $f"
    [ "$(cat "$f")" = "old content" ] || fail "cutune $* cut short changed $f"
    ls "$f".tmp-* >/dev/null 2>&1 && fail "cutune $* left a temporary file beside $f"
}
# (the store's -shm, 32 KiB, fits; the export of its 528 evaluations, 318 KB, does not)
run 0 profiles import "$SRC/data/spaces/cutune/dot_H200.json.gz" --db "$TMP/small.db"
blocks=128
cutoff "$TMP/export.json" profiles export 1 --db "$TMP/small.db" -o "$TMP/export.json"
blocks=8
cutoff "$TMP/cache.json" tune --sim "$SPACE" --budget 400 --cache-out "$TMP/cache.json"
cutoff "$TMP/t4.json" tune --sim "$SPACE" --budget 400 --t4-out "$TMP/t4.json"
cutoff "$TMP/trace.csv" sim --space "$SPACE" --strategy random --repeats 20 --trace "$TMP/trace.csv"
# an import cut short leaves the store as it was: no session of it stays behind
run 0 profiles import "$SPACE" --db "$TMP/cut.db"
(trap '' XFSZ; ulimit -f 4000; "$CLI" profiles import "$SRC/data/spaces/convolution/A100.json.gz" \
    --db "$TMP/cut.db") >"$TMP/out" 2>"$TMP/err" && fail "an import past the file size limit worked"
has err "cut.db: importing: "
run 0 profiles import "$SPACE" --db "$TMP/cut.db"
has out "as session 2"
# and written whole when there is room, with the mode the old file had
stored_spaces
chmod 640 "$TMP/export.json"
run 0 profiles export 1 --db "$TMP/p.db" -o "$TMP/export.json"
[ "$(stat -c %a "$TMP/export.json")" = 640 ] || fail "export changed the file's mode"
grep -q '"cache"' "$TMP/export.json" || fail "export wrote no cache"
}

run_cases "$CASE"

if [ $fails -ne 0 ]; then
    echo "$fails hostile-input check(s) failed" >&2
    exit 1
fi
echo "all hostile-input checks passed"
