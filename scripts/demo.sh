#!/bin/sh
# demo.sh — the main job, run by `make demo`: describe the GPU (or say there is none), then
# show the search spaces cutune ships. Later issues add tuning and benchmarks here.
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
if [ $gpu -eq 1 ]; then
    echo "Tuning on this GPU arrives with the tuning engine (issues #4 and #6)."
else
    echo "Simulated tuning on the recorded spaces arrives with the strategies (issue #4)."
fi
exit 0
