#!/bin/sh
# robustness.sh — the profile store against what happens to it: sessions killed (SIGKILL,
# SIGTERM, SIGINT) at random points and resumed, several processes writing into one store at
# once, and damaged stores (truncated, random bytes, zero bytes, a whole page, a text file, a
# newer schema); and hostile names against every interpreter the CLI feeds. Prints one figure
# per part and fails unless each is N of N (for hostile strings: 0 of N got through).
# usage: tests/robustness.sh [SCALE [CUTUNE [TEST_STORE_FILES [PART]]]]
#   SCALE: 1 (the default, what `make test` runs: a few seconds) or more for a longer run
#   (SCALE times the kill chains, writer rounds and damaged stores); CUTUNE: the CLI
#   (build/cutune); TEST_STORE_FILES: the test whose --sql mode reads the stores
#   (build/tests/test_store_files); CASE: one part alone (each a function case_CASE below).
set -u
here=$(cd "$(dirname "$0")" && pwd)
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
SCALE=${1:-1}
CASE=${4:-}
CLI=$(abs "${2:-$here/../build/cutune}")
HELPER=$(abs "${3:-$here/../build/tests/test_store_files}")
SQL="$HELPER --sql"
A4000=$here/../data/spaces/convolution/A4000.json.gz
A100=$here/../data/spaces/convolution/A100.json.gz
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
. "$here/cli_checks.sh" # run_cases
cd "$TMP" || exit 1
figures=""
bad=0

# rand LO HI: an integer in [LO, HI]
rand() { echo $(($1 + $(od -An -N2 -tu2 /dev/urandom) % ($2 - $1 + 1))); }
# figure TEXT GOT OF: one line of the summary
figure() {
    figures="$figures$1: $2 of $3
"
    [ "$2" -eq "$3" ] || bad=1
}
say() { echo "  $*" >&2; }

# ------------------------------------------------------------------ 1. kills ----
# A chain: a session of BUDGET evaluations (the random strategy, a delay per measurement),
# killed KILLS times at random points by SIGKILL, SIGTERM or SIGINT (Ctrl-C: it stops and
# finishes the session, and the resume starts a new one from what the old one measured),
# resumed after each kill, then resumed to its end. After each kill, every evaluation in the
# store (its configuration and when it was measured) is noted; a kill is survived when at
# the end of its chain each of them is still there, unchanged (not measured again), and the
# chain measured exactly its budget, each configuration once.
case_kills() {
kills=0
survived=0
signals="KILL TERM INT"
chain() {
    key=$1 budget=40
    args="tune --sim $A4000 --db kills.db --strategy random --seed $2 --budget $budget \
--sim-delay-ms 20 --user-key $key --json"
    rows="SELECT e.config, e.at FROM evaluations e JOIN sessions s ON s.id = e.session \
WHERE s.user_key = '$key'"
    hit=0 resume=""
    for k in 1 2; do
        "$HELPER" --run "$CLI" $args $resume >/dev/null 2>&1 & # (with Ctrl-C)
        pid=$!
        sleep "0.$(rand 10 35)"
        sig=$(echo $signals | cut -d' ' -f$(rand 1 3))
        if kill -0 $pid 2>/dev/null && kill -$sig $pid 2>/dev/null; then
            hit=$((hit + 1))
        fi
        wait $pid 2>/dev/null
        $SQL kills.db "$rows" 2>/dev/null | LC_ALL=C sort >"$key.$k" # (none yet: nothing)
        resume=--resume
    done
    "$CLI" $args --resume >"$key.json" 2>"$key.err"
    rc=$?
    $SQL kills.db "$rows" | LC_ALL=C sort >"$key.end"
    ok=1
    [ $rc -eq 0 ] && grep -q "\"evaluations\": $budget," "$key.json" || ok=0
    [ "$(wc -l <"$key.end")" -eq $budget ] || ok=0 # (a configuration twice: two rows)
    [ "$(cut -d'|' -f1 "$key.end" | sort -u | wc -l)" -eq $budget ] || ok=0
    for k in 1 2; do
        [ -z "$(LC_ALL=C comm -23 "$key.$k" "$key.end")" ] || ok=0
    done
    [ $ok -eq 1 ] || say "chain $key: exit $rc, $(wc -l <"$key.end") rows: $(cat "$key.err")"
    kills=$((kills + hit))
    [ $ok -eq 0 ] || survived=$((survived + hit))
}
n=0
while [ $n -lt $((3 * SCALE)) ]; do
    n=$((n + 1))
    chain "chain$n" $n
done
figure "kills survived with nothing lost" $survived $kills
}

# --------------------------------------------------------- 2. writers at once ----
# WRITERS sessions (2 to 4) and an import write into one store at once; every evaluation
# each reports must be in the store.
case_writers() {
expected=0
kept=0
round=0
while [ $round -lt $((2 * SCALE)) ]; do
    round=$((round + 1))
    writers=$((2 + round % 3))
    rm -f writers.db*
    "$CLI" profiles import "$A100" --db writers.db >/dev/null 2>&1 # (created before the race)
    pids=""
    w=0
    while [ $w -lt $writers ]; do
        w=$((w + 1))
        "$CLI" tune --sim "$A4000" --db writers.db --strategy random --seed $w --budget 60 \
            --user-key "w$w" --json >"w$w.json" 2>"w$w.err" &
        pids="$pids $!"
    done
    "$CLI" profiles import "$A4000" --db writers.db --user-key imported >/dev/null 2>imp.err &
    pids="$pids $!"
    for p in $pids; do wait $p || say "round $round: a writer failed: $(cat ./*.err)"; done
    expected=$((expected + writers * 60 + 4362))
    got=$($SQL writers.db "SELECT count(*) FROM evaluations e JOIN sessions s ON s.id = \
e.session WHERE s.user_key <> ''")
    kept=$((kept + ${got:-0}))
done
figure "concurrent writes kept" $kept $expected
}

# ----------------------------------------------------------- 3. damaged stores ----
# Each damaged store must be refused by every command that would write into it (tune
# --resume, import, prune, vacuum) and by export where it meets the damage, and be left
# byte for byte, with no -wal or -shm; a text file and a newer cutune's store also by
# --recover.
case_damaged() {
"$CLI" profiles import "$A100" --db whole.db >/dev/null || exit 1
pages=$(($(wc -c <whole.db) / 4096))
damaged=0
untouched=0
damage() { # damage HOW FILE
    cp whole.db "$2"
    page=$(rand $((pages / 4)) $((3 * pages / 4))) # a page in the middle
    case $1 in
    truncated) head -c $(($(wc -c <whole.db) * $(rand 30 90) / 100)) whole.db >"$2" ;;
    random) head -c 2048 /dev/urandom | dd of="$2" bs=4096 seek=$page conv=notrunc 2>/dev/null ;;
    zeros) dd if=/dev/zero of="$2" bs=2048 seek=$((2 * page)) count=1 conv=notrunc 2>/dev/null ;;
    page) head -c 4096 /dev/urandom | dd of="$2" bs=4096 seek=$page conv=notrunc 2>/dev/null ;;
    text) printf 'notes, not a store\n' >"$2" ;;
    newer) "$HELPER" --sql-write "$2" "INSERT INTO schema_version VALUES (99)" ;;
    esac
}
refused() { # refused FILE: every writing command fails and the file is as it was
    cp "$1" "$1.orig"
    ok=1
    for cmd in "tune --sim $A100 --budget 5 --resume" "profiles import $A4000" \
        "profiles prune --all" "profiles vacuum" "profiles export 1"; do
        if "$CLI" $cmd --db "$1" >/dev/null 2>"$1.err"; then
            ok=0
            say "$1: cutune $cmd went through"
        fi
    done
    case $1 in text* | newer*)
        "$CLI" profiles --recover --db "$1" >/dev/null 2>&1 && ok=0 ;;
    esac
    cmp -s "$1" "$1.orig" || { ok=0; say "$1 changed"; }
    [ -e "$1-wal" ] || [ -e "$1-shm" ] && { ok=0; say "$1 has a -wal or -shm"; }
    echo $ok
}
r=0
while [ $r -lt "$SCALE" ]; do
    r=$((r + 1))
    for how in truncated random zeros page text newer; do
        damage $how "$how$r.db"
        damaged=$((damaged + 1))
        untouched=$((untouched + $(refused "$how$r.db")))
    done
done
figure "damaged stores refused untouched" $untouched $damaged
}

# ----------------------------------------------------------- 4. hostile strings ----
# Names with quotes, line breaks, shell, SQL and gnuplot metacharacters, in cache files, file
# names, folder names and bench reports (tests/test_hostile.sh, which also checks that files
# are written whole or not at all): how many ran a command.
case_hostile_strings() {
    out=$(sh "$here/test_hostile.sh" "$CLI" "$here/.." 2>"$TMP/hostile.err")
    rc=$?
    line=$(printf '%s\n' "$out" | awk '/^hostile strings that reached an interpreter: / {
        reached += $(NF - 2); tried += $NF; n++ }
        END { if (n) print "hostile strings that reached an interpreter: " reached " of " tried }')
    if [ $rc -ne 0 ] || [ -z "$line" ]; then
        say "test_hostile.sh failed: $(cat "$TMP/hostile.err")"
        bad=1
    fi
    figures="$figures${line:-hostile strings that reached an interpreter: (not measured)}
"
    case $line in *": 0 of "*) ;; *) bad=1 ;; esac
}

run_cases "$CASE"

printf '%s' "$figures"
exit $bad
