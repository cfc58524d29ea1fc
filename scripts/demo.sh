#!/bin/sh
# demo.sh — the main job, run by `make demo`: describe the GPU (or say there is none), show
# the search spaces cutune ships, tune on a recorded space, score every strategy on all of
# them, and tune cutune's convolution on the GPU (or compile one configuration without one).
# usage: demo.sh BUILD_DIR
set -u
BUILD=${1:-build}
CLI=$BUILD/cutune

echo "== cutune $($CLI --version | cut -d' ' -f2): the device"
if $CLI device 2>/tmp/cutune-demo-device.$$; then
    gpu=1
else
    gpu=0
    echo "no GPU on this machine ($(cat /tmp/cutune-demo-device.$$ | sed 's/^no CUDA device found: //'))"
fi
rm -f /tmp/cutune-demo-device.$$

for spec in data/spaces/*/spec.json; do
    echo
    echo "== search space: $spec"
    $CLI space --spec "$spec" || exit 1
    echo "-- five configurations drawn uniformly from the valid ones (seed 1):"
    $CLI space --spec "$spec" --sample 5 --seed 1 || exit 1
done

echo
echo "== occupancy: 256 threads, 63 registers, 8 KiB of shared memory on an H100 (sm_90)"
$CLI occupancy --arch sm_90 --threads 256 --regs 63 --smem 8192 || exit 1
if [ $gpu -eq 1 ]; then
    echo "-- the same launch with the limits of this machine's GPU:"
    $CLI occupancy --device 0 --threads 256 --regs 63 --smem 8192 || exit 1
fi

echo
echo "== a tuning session on a recorded space (Kernel Tuner cache of convolution on an RTX A4000):"
echo "   Bayesian optimisation, 50 evaluations, each answered by the recorded measurement"
$CLI tune --sim data/spaces/convolution/A4000.json.gz --strategy bo --budget 50 --seed 1 || exit 1

echo
echo "== every strategy on every recorded space, 20 sessions each, scored against random search"
echo "   (0: as good as random, 1: optimal from the first evaluation; budget K of each space)"
mkdir -p "$BUILD/demo"
$CLI sim --all-strategies --repeats 20 --plot-dir "$BUILD/demo" \
    $(for f in data/spaces/*/*.json.gz; do printf -- '--space %s ' "$f"; done) || exit 1
ls "$BUILD"/demo/*.png >/dev/null 2>&1 && echo "convergence plots: $BUILD/demo/*.png"

echo
if [ $gpu -eq 1 ]; then
    echo "== tuning cutune's convolution on this GPU: Bayesian optimisation, 40 configurations,"
    echo "   each compiled with NVRTC, timed by the worker and checked against the default"
    $CLI tune kernels/convolution.cu --spec kernels/convolution.json --strategy bo \
        --budget 40 --cache-out "$BUILD/demo/convolution.json" || exit 1
else
    echo "== with a GPU, the demo would now tune cutune's convolution on it:"
    echo "   $CLI tune kernels/convolution.cu --spec kernels/convolution.json --strategy bo --budget 40"
    echo "-- one of its configurations compiled here, without a GPU:"
    $CLI compile kernels/convolution.cu --spec kernels/convolution.json \
        --config 64,2,1,2,0,0,1,1,15,15 --arch sm_90 --cache-dir "$BUILD/demo/binaries" || exit 1
fi
exit 0
