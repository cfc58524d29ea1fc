#!/bin/sh
# bench.sh — the benchmarks, run by `make bench`. For now: the speed of the search-space
# machinery (enumeration, sampling, constraint evaluation) on one core.
# usage: bench.sh BUILD_DIR
set -eu
BUILD=${1:-build}
"$BUILD/space_bench" data/spaces/*/spec.json
"$BUILD/tests/test_speed"
