#!/usr/bin/env python3
"""kt_t1.py: tune a T1 spec and its kernel with Kernel Tuner on the GPU, as Kernel Tuner's own
tune_kernel_T1 reads the spec (tune_params from Values, restrictions from Conditions, the
problem size, GridDivX/Y/Z, Vector arguments filled with randn or a constant, Scalars, MemType
Constant arguments also in constant memory; Default, LocalSize and GlobalSize unused; no
answer, so nothing verified), but with the cupy backend and a budget: tune_kernel_T1 itself
asks for pycuda, which the GPU machine lacks. For `cutune tune SPEC --verify none` beside it
(bench/scripts/t1_vs_kt.sh).

usage: kt_t1.py SPEC --strategy NAME --budget N [--iterations 7] [--json OUT.json]
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
    ap.add_argument("--json")
    a = ap.parse_args()

    spec = json.load(open(a.spec))
    ks = spec["KernelSpecification"]
    tune_params = {p["Name"]: eval(p["Values"]) for p in
                   spec["ConfigurationSpace"]["TuningParameters"]}
    restrictions = [c["Expression"] for c in spec["ConfigurationSpace"].get("Conditions", [])]
    problem_size = ks["ProblemSize"]
    if isinstance(problem_size, list):
        problem_size = tuple(problem_size)
    source = open(os.path.join(os.path.dirname(a.spec), ks["KernelFile"])).read()
    args, cmem = arguments(ks, tune_params, problem_size, np.random.default_rng(1))
    divs = {f"grid_div_{d}": ks.get(f"GridDiv{d.upper()}") or None for d in "xyz"}

    t0 = time.time()
    results, env = kernel_tuner.tune_kernel(
        ks["KernelName"], source, problem_size, args, tune_params, restrictions=restrictions,
        cmem_args=cmem or None, lang="cupy", compiler_options=ks.get("CompilerOptions"),
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
