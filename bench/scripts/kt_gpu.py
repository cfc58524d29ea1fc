#!/usr/bin/env python3
"""kt_gpu.py: tune cutune's convolution (kernels/convolution.cu over kernels/convolution.json)
with Kernel Tuner on the GPU, to compare with `cutune tune` on the same kernel, space, budget
and GPU. Kernel Tuner gets the same launch geometry (grid_div_x/y), the filter in constant
memory, and the default configuration's output as the answer to verify against.

usage: kt_gpu.py --strategy NAME --budget N [--lang cupy] [--json OUT.json]
Prints one JSON summary: evaluations, wall time, time per configuration, best and default.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import kernel_tuner

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))  # HERE is bench/scripts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--strategy", default="random_sample")
    ap.add_argument("--budget", type=int, default=100)
    ap.add_argument("--lang", default="cupy")
    ap.add_argument("--iterations", type=int, default=7)
    ap.add_argument("--json")
    args = ap.parse_args()

    spec = json.load(open(os.path.join(ROOT, "kernels/convolution.json")))
    source = open(os.path.join(ROOT, "kernels/convolution.cu")).read()
    params = spec["ConfigurationSpace"]["TuningParameters"]
    tune_params = {p["Name"]: eval(p["Values"]) for p in params}  # T1 values: Python lists
    default = {p["Name"]: p["Default"] for p in params}
    restrictions = [c["Expression"] for c in spec["ConfigurationSpace"]["Conditions"]]

    n, fw = 4096, 15
    rng = np.random.default_rng(1)
    out = np.zeros(n * n, np.float32)
    image = rng.random((n + fw - 1) * (n + fw - 1), dtype=np.float32)
    filt = rng.random(fw * fw, dtype=np.float32)
    kargs = [out, image, filt]
    common = dict(grid_div_x=["block_size_x", "tile_size_x"],
                  grid_div_y=["block_size_y", "tile_size_y"],
                  cmem_args={"d_filter": filt}, lang=args.lang)

    reference = kernel_tuner.run_kernel("convolution_kernel", source, (n, n), kargs, default,
                                        **common)
    answer = [reference[0], None, None]

    t0 = time.time()
    results, env = kernel_tuner.tune_kernel(
        "convolution_kernel", source, (n, n), kargs, tune_params, restrictions=restrictions,
        answer=answer, atol=1e-3, strategy=args.strategy,
        strategy_options={"max_fevals": args.budget}, iterations=args.iterations,
        verbose=False, quiet=True, **common)
    wall = time.time() - t0
    timed = [r for r in results if isinstance(r.get("time"), float)]
    best = min(timed, key=lambda r: r["time"]) if timed else None
    default_time = [r["time"] for r in timed
                    if all(r[k] == v for k, v in default.items())]
    summary = {
        "tuner": f"Kernel Tuner {kernel_tuner.__version__} ({args.lang})",
        "device": env.get("device_name"), "strategy": args.strategy, "budget": args.budget,
        "evaluations": len(results), "measured": len(timed), "wall_s": round(wall, 2),
        "s_per_config": round(wall / max(1, len(results)), 4),
        "best_ms": best["time"] if best else None,
        "best_config": ",".join(str(best[k]) for k in tune_params) if best else None,
        "default_ms_if_evaluated": default_time[0] if default_time else None,
    }
    print(json.dumps(summary))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f)


if __name__ == "__main__":
    sys.exit(main())
