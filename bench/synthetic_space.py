#!/usr/bin/env python3
"""synthetic_space.py — writes a Kernel Tuner cache file with 10,000 configurations (four
parameters of ten values each) whose times form a smooth landscape with a few local minima,
and a corner (about 2% of the entries) that fails. It gives both tuners a space of the size
where BO's cost per suggestion matters.

usage: synthetic_space.py OUT.json
"""
import itertools
import json
import math
import sys

VALUES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
NAMES = ["p0", "p1", "p2", "p3"]


def time_ms(idx):
    """A bowl with ripples over the value indices, in milliseconds."""
    t = 1.0
    for j, i in enumerate(idx):
        t += 0.05 * (j + 1) * (i - 3.7 - j * 0.6) ** 2 / 10
        t += 0.15 * math.sin(1.3 * i + 0.7 * j)
    return round(t + 0.5, 6)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[-1])
    cache = {}
    for idx in itertools.product(range(10), repeat=4):
        values = [VALUES[i] for i in idx]
        key = ",".join(str(v) for v in values)
        entry = dict(zip(NAMES, values))
        failed = idx[0] >= 8 and idx[1] >= 9  # 2 x 1 x 10 x 10 = 200 entries
        entry["time"] = "RuntimeFailedConfig" if failed else time_ms(idx)
        cache[key] = entry
    out = {
        "device_name": "synthetic",
        "kernel_name": "synthetic_kernel",
        "problem_size": [1],
        "tune_params_keys": NAMES,
        "tune_params": {n: VALUES for n in NAMES},
        "objective": "time",
        "cache": cache,
    }
    with open(sys.argv[1], "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
