#!/bin/sh
# run_tests.sh — runs one build's tests (each case of a test program its own CTest test,
# PROGRAM/CASE): first the GPU tests (labelled gpu), printing why any was skipped (each reason
# once, with how many tests gave it), then all the others, so that CTest's summary line of the
# main run comes last.
# usage: run_tests.sh BUILD_DIR JOBS
set -u
cd "$1" || exit 1
jobs=${2:-2}
ctest -L gpu --output-on-failure -j "$jobs" >gpu-tests.log 2>&1
gpu_rc=$?
grep -E "Test +#|tests passed" gpu-tests.log
if grep -q "Skipped" gpu-tests.log; then
    grep -h "^skipped:" Testing/Temporary/LastTest.log | sort | uniq -c |
        awk '{n = $1; sub(/^ *[0-9]+ /, ""); printf "  (%d GPU test%s) %s\n", n, (n > 1 ? "s" : ""), $0}'
fi
[ $gpu_rc -eq 0 ] || cat gpu-tests.log
ctest -LE gpu --output-on-failure -j "$jobs"
rc=$?
[ $gpu_rc -eq 0 ] && [ $rc -eq 0 ]
