#!/bin/sh
# test_store_cli.sh — issue 24 from the command line: `profiles --recover` refuses what is not
# a damaged store and keeps every file it finds; a damaged store is refused by tune --resume,
# import and export and left byte for byte; one run at a time goes on with a killed session,
# and a later one takes it over once its run is gone; a recorded space's session is stored
# under the space's device and size; a store in a folder nobody may write is read.
# usage: test_store_cli.sh PATH/TO/cutune SOURCE_DIR PATH/TO/test_store_files [CASE]   (each
#        case a function case_CASE below)
abs() { case $1 in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
CLI=$(abs "$1")
SRC=$(abs "$2")
SQL="$(abs "$3") --sql"
CASE=${4:-}
TMP=$(mktemp -d)
trap 'chmod -R u+w "$TMP"; rm -rf "$TMP"' EXIT
A100=$SRC/data/spaces/convolution/A100.json.gz
A4000=$SRC/data/spaces/convolution/A4000.json.gz
. "$(dirname "$0")/cli_checks.sh" # fail, run, has, run_cases
same() { cmp -s "$1" "$2" || fail "$1 changed ($3)"; }
nosides() { [ ! -e "$1-wal" ] && [ ! -e "$1-shm" ] || fail "$1 has a -wal or -shm left ($2)"; }
# healthy.db, the A100's space imported, and healthy.orig, a copy
healthy_store() {
    [ -e healthy.orig ] && return
    run 0 profiles import "$A100" --db healthy.db
    cp healthy.db healthy.orig
}
mkdir "$TMP/w" && cd "$TMP/w" || exit 1

# --recover refuses what is not a damaged cutune store, and touches nothing
case_recover_refuses() {
echo notes >n.txt
run 1 profiles --recover --db n.txt
has err "is not a profile store"
run 1 profiles --recover --db n.txt
[ "$(cat n.txt)" = notes ] || fail "a second --recover lost the notes"
[ "$(ls | wc -l)" -eq 1 ] || fail "--recover of a text file left files: $(ls)"
mkdir folder
run 1 profiles --recover --db folder
has err "is a folder"
[ -d folder ] && [ -z "$(ls folder)" ] || fail "--recover changed a folder"
healthy_store
run 1 profiles --recover --db healthy.db
has err "is a healthy cutune store"
has err "nothing was done"
same healthy.db healthy.orig "a healthy store recovered"
$SQL healthy.db "SELECT count(*) FROM evaluations" >"$TMP/count" || fail "the SQL helper failed"
[ "$(cat "$TMP/count")" = 4362 ] || fail "the healthy store has $(cat "$TMP/count") evaluations"
}

# a store damaged in the middle (2 KB of random bytes at 5,000,000, as the issue found; 2 KB
# of zeros at the start of the middle page) is refused and left as it was
case_damaged() {
healthy_store
pages=$(($(wc -c <healthy.db) / 4096))
for how in random zeros; do
    cp healthy.orig $how.db
    if [ $how = random ]; then
        head -c 2048 /dev/urandom | dd of=$how.db bs=1 seek=5000000 conv=notrunc 2>/dev/null
    else
        dd if=/dev/zero of=$how.db bs=4096 seek=$((pages / 2)) count=1 conv=notrunc 2>/dev/null
    fi
    cp $how.db $how.orig
    run 1 tune --sim "$A100" --budget 20 --db $how.db --resume
    has err "is damaged"
    has err "profiles --recover --db $how.db"
    run 1 profiles import "$A4000" --db $how.db
    has err "is damaged"
    run 1 profiles export 1 --db $how.db
    has err "is damaged"
    same $how.db $how.orig "$how bytes, after tune --resume, import and export"
    nosides $how.db "$how"
    # --recover salvages it, keeping the damaged file as it was under a name of its own
    run 0 profiles --recover --db $how.db
    kept=$(sed -n 's/.*the damaged store is kept as \([^ ,]*\).*/\1/p' "$TMP/out")
    same "$kept" $how.orig "the damaged $how store kept by --recover"
    run 0 profiles import "$A4000" --db $how.db
done
}

# one run at a time goes on with a session: a killed session (kill -9), resumed by one run
# while a second is refused, saying who has it; once that run is killed too, a third takes it
# over and finishes it with exactly its budget, no configuration measured twice. (The runs
# are slow, --sim-delay-ms, and the script waits for what the store shows, not for a time.)
case_one_run_at_a_time() {
await() { # await SQL N: until SQL on one.db gives N or more (at most a minute)
    for _ in $(seq 1200); do
        [ "$($SQL one.db "$1" 2>/dev/null || echo 0)" -ge "$2" ] 2>/dev/null && return 0
        sleep 0.05
    done
    fail "waited a minute for $1 to reach $2"
}
args="tune --sim $A4000 --db one.db --strategy random --budget 300 --json"
"$CLI" $args --sim-delay-ms 20 >/dev/null 2>&1 &
first=$!
await "SELECT count(*) FROM evaluations" 10
kill -9 $first
wait $first 2>/dev/null
$SQL one.db "SELECT config, at FROM evaluations" | LC_ALL=C sort >killed1
n1=$(wc -l <killed1)
"$CLI" $args --sim-delay-ms 20 --resume >/dev/null 2>&1 &
second=$!
await "SELECT count(*) FROM session_owners WHERE pid = $second" 1
run 1 $args --resume
has err "is being run by process $second on $(hostname)"
has err " UTC"
await "SELECT count(*) FROM evaluations" $((n1 + 10))
kill -9 $second
wait $second 2>/dev/null
$SQL one.db "SELECT config, at FROM evaluations" | LC_ALL=C sort >killed2
n2=$(wc -l <killed2)
[ "$n2" -lt 300 ] || fail "the second run finished before it was killed"
run 0 $args --resume
has out '"evaluations": 300'
has out "\"restored\": $n2"
has out "\"measured\": $((300 - n2))"
$SQL one.db "SELECT config, at FROM evaluations" | LC_ALL=C sort >done
[ "$(wc -l <done)" -eq 300 ] || fail "the session has $(wc -l <done) evaluations, not 300"
# what the killed runs measured is all there, none of it measured again (the same time)
for f in killed1 killed2; do
    [ -z "$(LC_ALL=C comm -23 $f done)" ] || fail "evaluations of a killed run were lost or redone"
done
$SQL one.db "SELECT count(*) FROM sessions" >sessions
[ "$(cat sessions)" = 1 ] || fail "one session expected, $(cat sessions) found"
$SQL one.db "SELECT count(*) FROM session_owners" >owners
[ "$(cat owners)" = 0 ] || fail "a finished session still has an owner"
}

# a session held by a run on another machine is not taken over (nothing proves that run
# gone) until `profiles release` frees it
case_held_elsewhere() {
args2="tune --sim $A4000 --db two.db --strategy random --budget 40 --json"
"$CLI" $args2 --sim-delay-ms 50 >/dev/null 2>&1 &
far=$!
for _ in $(seq 1200); do
    [ "$($SQL two.db "SELECT count(*) FROM evaluations" 2>/dev/null || echo 0)" -ge 3 ] \
        2>/dev/null && break
    sleep 0.05
done
kill -9 $far
wait $far 2>/dev/null
$SQL-write two.db "UPDATE session_owners SET host = 'elsewhere'" || fail "the SQL helper failed"
run 1 $args2 --resume
has err "is being run by process $far on elsewhere"
has err "cutune profiles release 1 --db two.db\`"
run 0 profiles release 1 --db two.db
has out "session 1 was held by process $far on elsewhere since .* UTC: released"
run 0 profiles release 1 --db two.db
has out "session 1 was held by no run"
run 1 profiles release 7 --db two.db
has err "has no session 7"
run 2 profiles release --db two.db
has err "release needs a session ID"
run 0 $args2 --resume
has out '"evaluations": 40'
}

# a recorded space's session: the space's device and size, found by the device's name
case_recorded_space() {
run 0 tune --sim "$A4000" --budget 5 --db sim.db
run 0 profiles list --db sim.db
has out "NVIDIA RTX A4000 .*4096x4096"
run 0 profiles select --db sim.db --kernel convolution_kernel --problem 4096,4096 \
    --device-name "NVIDIA RTX A4000" --cc 8.6 --sms 48
has out "^similar device: profile 1 (problem 4096x4096"
$SQL sim.db "SELECT origin FROM sessions" >origin
grep -q "^recorded:$A4000$" origin || fail "the session's origin is $(cat origin)"
run 0 profiles import "$A4000" --db sim.db
run 0 profiles list --db sim.db
has out "^1 profile in" # the same key as the import of the same file
}

# a store in a folder nobody may write is read, and no -wal or -shm is left (as root, the
# reads run without root's overrides of file permissions: setpriv)
case_read_only_folder() {
healthy_store
mkdir installed
cp healthy.orig installed/p.db
chmod 555 installed
as_user=""
[ "$(id -u)" -eq 0 ] && as_user="setpriv --bounding-set=-dac_override,-dac_read_search,-fowner"
if [ -n "$as_user" ] && ! command -v setpriv >/dev/null 2>&1; then
    echo "skipped: a folder nobody may write (root, and no setpriv)"
else
    for what in list "show 1" "export 1" "select --kernel convolution_kernel --problem 64 \
            --device-name x --cc 8.0 --sms 1"; do
        $as_user "$CLI" profiles $what --db installed/p.db >"$TMP/out" 2>"$TMP/err" ||
            fail "profiles $what in a read-only folder: $(cat "$TMP/err")"
    done
    $as_user "$CLI" profiles import "$A4000" --db installed/p.db >"$TMP/out" 2>"$TMP/err" &&
        fail "an import into a read-only folder did not fail"
    has err "is not writable by this user"
    nosides installed/p.db "read in a read-only folder"
    same installed/p.db healthy.orig "read in a read-only folder"
fi
chmod 755 installed
# readers leave nothing in a folder they may write, either
run 0 profiles list --db healthy.db
nosides healthy.db "profiles list"
}

run_cases "$CASE"

if [ $fails -ne 0 ]; then
    echo "$fails store CLI check(s) failed" >&2
    exit 1
fi
echo "all store CLI checks passed"
