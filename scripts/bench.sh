#!/bin/sh
# bench.sh — the benchmarks, run by `make bench`: the speed of the search-space machinery
# (enumeration, sampling, constraint evaluation) on one core; with a GPU, also cutune's
# kernels tuned beside cuBLAS and the device's copy (bench/scripts/kernels.sh) and the
# copy/compute pipeline against the link's limits, and `cutune bench` (the shipped workloads
# tuned against their defaults, the GPU's limits and the contracts of bench/slo.json).
# (`make bench-store`: the profile store.)
# usage: bench.sh BUILD_DIR
set -eu
BUILD=${1:-build}
"$BUILD/space_bench" data/spaces/*/spec.json
"$BUILD/tests/test_speed"
if "$BUILD/cutune" device >/dev/null 2>&1; then
    [ -x "$BUILD/kernels_bench" ] && sh bench/scripts/kernels.sh "$BUILD"
    "$BUILD/cutune" pipeline --workloads
    "$BUILD/cutune" bench --out "$BUILD/bench"
else
    echo "bench.sh: no CUDA device here: the GPU benchmarks are left out"
fi
