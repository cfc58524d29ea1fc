#!/usr/bin/env python3
"""synthetic_space.py: write a Kernel Tuner cache file of exactly 10,000 configurations
(p0..p3, ten powers of two each) with made-up times: a tilted bowl with ripples, so smooth
but with several local minima, and a failing corner of 200 entries (2%) where p0 is one of
its two largest values and p1 is its largest. Deterministic; no randomness.

usage: synthetic_space.py OUT.json
"""
import itertools
import json
import math
import sys

NAMES = ["p0", "p1", "p2", "p3"]
VALUES = [2 ** i for i in range(10)]  # 1 .. 512
CENTRE = [0.30, 0.55, 0.70, 0.40]     # where the bowl is lowest, on [0, 1] per parameter
WEIGHT = [3.0, 2.0, 1.5, 1.0]


def time_ms(idx):
    x = [i / 9 for i in idx]
    bowl = sum(w * (xi - c) ** 2 for w, xi, c in zip(WEIGHT, x, CENTRE))
    coupling = 0.8 * (x[0] - x[2]) ** 2
    ripples = sum(0.12 * (1 - math.cos(3 * math.pi * xi + j)) for j, xi in enumerate(x))
    return round(0.5 + bowl + coupling + ripples, 6)


def failed(idx):
    return idx[0] >= 8 and idx[1] == 9


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: synthetic_space.py OUT.json")
    cache = {}
    for idx in itertools.product(range(len(VALUES)), repeat=len(NAMES)):
        values = [VALUES[i] for i in idx]
        entry = dict(zip(NAMES, values))
        entry["time"] = "RuntimeFailedConfig" if failed(idx) else time_ms(idx)
        cache[",".join(map(str, values))] = entry
    doc = {
        "device_name": "synthetic",
        "kernel_name": "synthetic_kernel",
        "problem_size": [1],
        "tune_params_keys": NAMES,
        "tune_params": {n: VALUES for n in NAMES},
        "objective": "time",
        "cache": cache,
    }
    with open(sys.argv[1], "w") as f:
        json.dump(doc, f)
    fails = sum(isinstance(e["time"], str) for e in cache.values())
    print(f"{sys.argv[1]}: {len(cache)} configurations, {fails} failing", file=sys.stderr)


if __name__ == "__main__":
    main()
