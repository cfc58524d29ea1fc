#!/bin/sh
# demo.sh — the main job, run by `make demo`. With a GPU: tune cutune's shipped workloads
# with Bayesian optimisation into the profile store (those it already holds are kept), then
# benchmark them, default against tuned, with the GPU's limits and the real-time contracts
# (`cutune bench`). Without one: say so, then score the search strategies on the recorded
# search spaces in data/spaces (a table and convergence plots).
# usage: demo.sh BUILD_DIR
set -u
BUILD=${1:-build}
CLI=$BUILD/cutune
mkdir -p "$BUILD/demo"

if $CLI device >"$BUILD/demo/device.txt" 2>&1; then
    echo "== cutune $($CLI --version | cut -d' ' -f2) on $(grep -m1 -o 'NVIDIA[^,]*' "$BUILD/demo/device.txt" || echo 'the GPU')"
    echo "== tuning the shipped workloads (BO, 40 evaluations each, skipped when the profile"
    echo "   store already holds them), then 10,000 timed runs of each, tuned against default"
    exec $CLI bench --out "$BUILD/demo" --budget 40 --runs 10000
fi

echo "no GPU on this machine ($(sed 's/^no CUDA device found: //' "$BUILD/demo/device.txt" | head -1)): scoring the search strategies on recorded spaces instead"
echo
echo "== a tuning session on a recorded space (Kernel Tuner cache of convolution on an RTX A4000):"
echo "   Bayesian optimisation, 50 evaluations, each answered by the recorded measurement"
$CLI tune --sim data/spaces/convolution/A4000.json.gz --strategy bo --budget 50 --seed 1 || exit 1

echo
echo "== every strategy on every recorded space, 20 sessions each, scored against random search"
echo "   (0: as good as random, 1: optimal from the first evaluation; budget K of each space)"
$CLI sim --all-strategies --repeats 20 --plot-dir "$BUILD/demo" \
    $(for f in data/spaces/*/*.json.gz; do printf -- '--space %s ' "$f"; done) || exit 1
ls "$BUILD"/demo/*.png >/dev/null 2>&1 && echo "convergence plots: $BUILD/demo/*.png"
echo
echo "with a GPU, \`make demo\` tunes and benchmarks cutune's kernels on it: $CLI bench --help"
exit 0
