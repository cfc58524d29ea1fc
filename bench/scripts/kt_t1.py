#!/usr/bin/env python3
"""kt_t1.py: tune a T1 spec and its kernel with Kernel Tuner on the GPU, as Kernel Tuner's own
tune_kernel_T1 reads the spec (tune_params from Values, restrictions from Conditions, the
problem size, GridDivX/Y/Z, Vector arguments filled with randn or a constant, Scalars, MemType
Constant arguments also in constant memory; Default, LocalSize and GlobalSize unused; no
answer, so nothing verified), but with the cupy backend and a budget: tune_kernel_T1 itself
asks for pycuda, which the GPU machine lacks. For `cutune tune SPEC --verify none` beside it
(bench/scripts/t1_vs_kt.sh).

usage: kt_t1.py SPEC --strategy NAME --budget N [--iterations 7] [--problem X,Y,Z]
                 [--json OUT.json]
Prints one JSON summary: evaluations, wall time, seconds per configuration, best time and
configuration.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import kernel_tuner


def arguments(spec_ks, tune_params, problem_size, rng):
    args, cmem = [], {}
    env = dict(tune_params)
    env["ProblemSize"] = problem_size
    for a in spec_ks["Arguments"]:
        dtype = {"float": np.float32, "double": np.float64, "int32": np.int32,
                 "int": np.int32}[a["Type"]]
        if a["MemoryType"] == "Scalar":
            args.append(dtype(a.get("FillValue", 0)))
            continue
        size = a["Size"]
        size = int(eval(size, env)) if isinstance(size, str) else int(size)
        if a.get("FillType", "Constant") == "Random":
            value = rng.standard_normal(size).astype(dtype)
        else:
            value = np.full(size, a.get("FillValue", 0)).astype(dtype)
        args.append(value)
        if a.get("MemType") == "Constant":
            cmem[a["Name"]] = value
    return args, cmem


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("spec")
    ap.add_argument("--strategy", default="bayes_opt")
    ap.add_argument("--budget", type=int, default=100)
    ap.add_argument("--iterations", type=int, default=7)
    ap.add_argument("--problem", help="X,Y,Z instead of the spec's ProblemSize")
    ap.add_argument("--json")
    a = ap.parse_args()

    spec = json.load(open(a.spec))
    ks = spec["KernelSpecification"]
    tune_params = {p["Name"]: eval(p["Values"]) for p in
                   spec["ConfigurationSpace"]["TuningParameters"]}
    restrictions = [c["Expression"] for c in spec["ConfigurationSpace"].get("Conditions", [])]
    problem_size = ks["ProblemSize"]
    if a.problem:
        problem_size = [int(v) for v in a.problem.split(",")]
    if isinstance(problem_size, list):
        problem_size = tuple(problem_size)
    source = open(os.path.join(os.path.dirname(a.spec), ks["KernelFile"])).read()
    args, cmem = arguments(ks, tune_params, problem_size, np.random.default_rng(1))
    # the sizes as defines too, where the spec says so (ProblemSizeDefines), written above
    # the source (Kernel Tuner's `defines` would replace its own defines of the parameters)
    sizes = problem_size if isinstance(problem_size, tuple) else (problem_size,)
    source = "".join(f"#define {name} {sizes[d]}\n"
                     for d, name in enumerate(ks.get("ProblemSizeDefines", []))) + source
    # the block's size from LocalSize where it names tuning parameters
    local = ks.get("LocalSize") or {}
    block_names = [local.get(axis) for axis in "XYZ" if local.get(axis) in tune_params]
    # a grid divisor naming the problem size is a number: Kernel Tuner's grid_div takes only
    # tuning parameters, so the problem size is divided here instead
    grid_size, divs = list(problem_size) if isinstance(problem_size, tuple) else [problem_size], {}
    for d, axis in enumerate("xyz"):
        names = ks.get(f"GridDiv{axis.upper()}") or []
        sized = [n for n in names if "ProblemSize" in n]
        if sized and d < len(grid_size):
            by = 1
            for n in sized:
                by *= int(eval(n, {"ProblemSize": problem_size}))
            grid_size[d] = -(-grid_size[d] // by)
        divs[f"grid_div_{axis}"] = [n for n in names if n not in sized] or None
    grid_size = tuple(grid_size) if len(grid_size) > 1 else grid_size[0]

    t0 = time.time()
    results, env = kernel_tuner.tune_kernel(
        ks["KernelName"], source, grid_size, args, tune_params, restrictions=restrictions,
        cmem_args=cmem or None, block_size_names=block_names or None, lang="cupy",
        compiler_options=ks.get("CompilerOptions"),
        strategy=a.strategy, strategy_options={"max_fevals": a.budget},
        iterations=a.iterations, verbose=False, quiet=True, **divs)
    wall = time.time() - t0
    timed = [r for r in results if isinstance(r.get("time"), (float, int))]
    best = min(timed, key=lambda r: r["time"]) if timed else None
    summary = {
        "tuner": f"Kernel Tuner {kernel_tuner.__version__} (cupy)", "spec": a.spec,
        "device": env.get("device_name"), "strategy": a.strategy, "budget": a.budget,
        "evaluations": len(results), "measured": len(timed), "wall_s": round(wall, 2),
        "s_per_config": round(wall / max(1, len(results)), 4),
        "best_ms": best["time"] if best else None,
        "best_config": ",".join(str(best[k]) for k in tune_params) if best else None,
    }
    print(json.dumps(summary))
    if a.json:
        with open(a.json, "w") as f:
            json.dump(summary, f)


if __name__ == "__main__":
    sys.exit(main())
