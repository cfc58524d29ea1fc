#!/bin/sh
# kt_matmul.sh — Kernel Tuner's own examples/cuda/matmul.py (tests/data/kernel_tuner/), run
# once unchanged under Kernel Tuner and once with only its import line changed to
# `import cutune as kernel_tuner`, one after the other on the same GPU. The script brute-forces
# its space with 32 timed launches per configuration and dumps its results to matmul.json.
# Prints the GPU, the one-line diff, then per tuner: configurations evaluated and run, wall
# time, best time and configuration; the configurations cutune found failing, with Kernel
# Tuner's time for each; and each tuner's best among the configurations both ran.
# usage: bench/python/kt_matmul.sh   (needs a GPU, Kernel Tuner and cutune importable)
set -eu
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
for tuner in kernel_tuner cutune; do
    mkdir "$work/$tuner"
    cp "$repo/tests/data/kernel_tuner/matmul.py" "$repo/tests/data/kernel_tuner/matmul.cu" \
        "$work/$tuner/"
done
sed -i 's/^import kernel_tuner$/import cutune as kernel_tuner/' "$work/cutune/matmul.py"
diff "$work/kernel_tuner/matmul.py" "$work/cutune/matmul.py" || true
for tuner in kernel_tuner cutune; do
    cd "$work/$tuner"
    start=$(date +%s.%N)
    python3 matmul.py >log.txt 2>&1 || { tail -20 log.txt; exit 1; }
    end=$(date +%s.%N)
    echo "$start $end" >wall.txt
    cd "$repo"
done
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
keys = ("block_size_x", "block_size_y", "tile_size_x", "tile_size_y")
runs = {}
for tuner in ("kernel_tuner", "cutune"):
    res = json.load(open(f"{work}/{tuner}/matmul.json"))
    start, end = map(float, open(f"{work}/{tuner}/wall.txt").read().split())
    runs[tuner] = {tuple(r[k] for k in keys): r for r in res}, end - start
def ran(r):
    return isinstance(r.get("time"), (int, float))
def name(c):
    return ",".join(map(str, c))
for tuner, (res, wall) in runs.items():
    ok = {c: r for c, r in res.items() if ran(r)}
    best = min(ok, key=lambda c: ok[c]["time"])
    print(f"{tuner:<13} evaluated {len(res):>3} (ran {len(ok):>3})  wall {wall:7.1f} s  best "
          f"{ok[best]['time']:.4f} ms ({ok[best]['GFLOP/s']:.0f} GFLOP/s) at {name(best)}")
kt, cu = runs["kernel_tuner"][0], runs["cutune"][0]
failed = [c for c in cu if not ran(cu[c])]
for c in failed:
    t = kt.get(c, {}).get("time")
    print(f"  cutune: {name(c)} {cu[c]['time']}; Kernel Tuner timed it at {t} ms")
both = [c for c in cu if ran(cu[c]) and c in kt and ran(kt[c])]
kbest = min(both, key=lambda c: kt[c]["time"])
cbest = min(both, key=lambda c: cu[c]["time"])
print(f"over the {len(both)} configurations both ran: Kernel Tuner's best {name(kbest)} "
      f"{kt[kbest]['time']:.4f} ms (cutune timed it at {cu[kbest]['time']:.4f}); cutune's best "
      f"{name(cbest)} {cu[cbest]['time']:.4f} ms (Kernel Tuner timed it at "
      f"{kt[cbest]['time']:.4f})")
PY
