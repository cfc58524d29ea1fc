#!/usr/bin/env python3
"""Distributed tuning on real GPUs: the same session on 1, 2, ... ranks (one per GPU).

  bench/scripts/mpi_gpu.py run DIR [--build B] [--mpirun M] [--kernels convolution,sgemm]
                   [--ranks 0,1,2] [--repeats R] [--budget N] [--strategy S]
                   [--mpirun-args "--bind-to none"]
      on the GPU machine: for each kernel, rank count and seed, one
      `mpirun -np N cutune tune ... --strategy S --no-store --json` (ranks 0: the same
      `cutune tune` in one process, without mpirun) with an empty binary cache (every
      configuration compiled in the run, as a first session would); its JSON and the
      process's wall time go to DIR. BO's path depends on the number of ranks (it plans one
      configuration per rank at a time), so its sessions differ in what they compile; random
      search with one seed measures the same configurations on any number of ranks: the
      same work, done faster or not.
  bench/scripts/mpi_gpu.py report DIR [--reference KERNEL=CACHE.json.gz ...] [--device TEXT]
                   [--note TEXT]
      anywhere: per kernel, strategy, budget and rank count, the session's and the process's
      wall time, evaluations per second and their speedup over one rank (also "steady": the
      rate from the first result to the last, without the start every session pays once),
      the time until the best so far came within 5% of the reference (the fastest time of a
      recorded space: cutune's Kernel Tuner cache of the same kernel on the same kind of
      GPU), and the best configuration; writes DIR/summary.json and prints a Markdown table.
"""
import argparse
import gzip
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

KERNELS = {  # name: (source, spec, extra arguments)
    "convolution": ("kernels/convolution.cu", "kernels/convolution.json", []),
    "sgemm": ("kernels/sgemm.cu", "kernels/sgemm.json", ["--problem", "4096,4096,4096"]),
}


def run(a):
    os.makedirs(a.dir, exist_ok=True)
    env = dict(os.environ, NCCL_NVLS_ENABLE="0")
    if os.getuid() == 0:
        env.update(OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    for kernel in a.kernels.split(","):
        source, spec, extra = KERNELS[kernel]
        for ranks in [int(r) for r in a.ranks.split(",")]:
            for seed in range(1, a.repeats + 1):
                how = a.strategy + "".join("_" + w.strip("-") for w in a.mpirun_args.split())
                name = f"{kernel}-{how}-np{ranks}-seed{seed}"
                # ranks 0: one process without mpirun (cutune's own single-GPU mode)
                launcher = ([a.mpirun, "--report-bindings", *a.mpirun_args.split(), "-np",
                             str(ranks)] if ranks else [])
                cmd = [*launcher, f"{a.build}/cutune", "tune", source, "--spec", spec, *extra,
                       "--strategy", a.strategy, "--budget", str(a.budget), "--seed",
                       str(seed), "--no-store", "--json"]
                with tempfile.TemporaryDirectory() as cache:
                    env["XDG_CACHE_HOME"] = cache  # an empty binary cache for every run
                    t0 = time.monotonic()
                    p = subprocess.run(cmd, env=env, capture_output=True, text=True,
                                       timeout=a.timeout)
                    wall = time.monotonic() - t0
                with open(os.path.join(a.dir, name + ".err"), "w") as f:
                    f.write(p.stderr)
                if p.returncode != 0:
                    print(f"{name}: exit {p.returncode}\n{p.stderr[-2000:]}", file=sys.stderr)
                    continue
                out = json.loads(p.stdout)
                out["bench"] = {"kernel": kernel, "ranks": ranks, "seed": seed,
                                "strategy": a.strategy, "mpirun_args": a.mpirun_args,
                                "mpirun_wall_s": wall, "command": " ".join(cmd)}
                with open(os.path.join(a.dir, name + ".json"), "w") as f:
                    json.dump(out, f, indent=1)
                print(f"{name}: {out['evaluations']} evaluations in {out['seconds']:.2f} s "
                      f"(the process {wall:.2f} s), best {out['best_ms']:.4f} ms "
                      f"{out['best_config']}", flush=True)


def recorded_optimum(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        cache = json.load(f)["cache"]
    return min(v["time"] for v in cache.values() if isinstance(v.get("time"), (int, float)))


def time_to_within(history, target_ms):
    """Seconds from the start until a result at most target_ms came back, or None."""
    for e in history:
        if "time_ms" in e and e["time_ms"] <= target_ms:
            return e["at_s"]
    return None


def report(a):
    refs = {}
    for r in a.reference:
        kernel, path = r.split("=", 1)
        refs[kernel] = {"space": path, "optimum_ms": recorded_optimum(path)}
    runs = []
    for name in sorted(os.listdir(a.dir)):
        if name.endswith(".json") and name != "summary.json":
            with open(os.path.join(a.dir, name)) as f:
                runs.append(json.load(f))
    cells = {}
    for r in runs:
        b = r["bench"]
        b.setdefault("strategy", "bo")
        budget = b["command"].split("--budget ")[1].split()[0]
        how = " ".join([b["strategy"], budget, b.get("mpirun_args", "")]).strip()
        at = [e["at_s"] for e in r["history"]]
        ref = refs.get(b["kernel"])
        cells.setdefault((b["kernel"], how, b["ranks"]), []).append({
            "seed": b["seed"], "evaluations": r["evaluations"], "seconds": r["seconds"],
            "mpirun_wall_s": b["mpirun_wall_s"],
            "evaluations_per_s": r["evaluations"] / r["seconds"],
            # the rate once results flow: without the start (CUDA contexts, the first
            # compilation) that every session pays once
            "steady_evaluations_per_s": ((len(at) - 1) / (at[-1] - at[0])
                                         if len(at) > 1 and at[-1] > at[0] else float("nan")),
            "best_ms": r["best_ms"], "best_config": r["best_config"],
            "default_ms": r["default_ms"], "compiled": r["compiled"],
            "compile_s": r["compile_s"], "per_rank": r.get("per_rank"),
            "configurations": sorted(e["config"] for e in r["history"]),
            "within_5pct_s": time_to_within(r["history"], 1.05 * ref["optimum_ms"])
            if ref else None})
    rows = []
    for (kernel, strategy, ranks), c in sorted(cells.items()):
        mean = lambda k: statistics.mean(x[k] for x in c)
        reached = [x["within_5pct_s"] for x in c if x["within_5pct_s"] is not None]
        best = min(c, key=lambda x: x["best_ms"])
        rows.append({
            "kernel": kernel, "strategy": strategy, "ranks": ranks, "repeats": len(c),
            "runs": c, "seconds_mean": mean("seconds"),
            "mpirun_wall_s_mean": mean("mpirun_wall_s"),
            "evaluations_per_s_mean": mean("evaluations_per_s"),
            "steady_evaluations_per_s_mean": mean("steady_evaluations_per_s"),
            "within_5pct_reached": len(reached),
            "within_5pct_s_mean": statistics.mean(reached) if reached else None,
            "best_ms": best["best_ms"], "best_config": best["best_config"],
            "best_ms_mean": mean("best_ms")})
    for row in rows:
        one = next((r for r in rows if r["kernel"] == row["kernel"] and
                    r["strategy"] == row["strategy"] and r["ranks"] == 1), None)
        row["speedup_evaluations_per_s"] = (row["evaluations_per_s_mean"] /
                                            one["evaluations_per_s_mean"]) if one else None
        row["speedup_steady"] = (row["steady_evaluations_per_s_mean"] /
                                 one["steady_evaluations_per_s_mean"]) if one else None
        # did each seed measure what one rank measured with that seed?
        ones = {x["seed"]: x["configurations"] for x in one["runs"]} if one else {}
        row["same_configurations_as_1_rank"] = all(
            ones.get(x["seed"]) == x["configurations"] for x in row["runs"])
    for row in rows:
        for x in row["runs"]:
            del x["configurations"]
    commands = sorted({r["bench"]["command"].replace(f" --seed {r['bench']['seed']}", " --seed S")
                       for r in runs})
    summary = {"device": a.device, "note": a.note, "commands": commands, "references": refs,
               "cells": rows}
    with open(os.path.join(a.dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)
    print("| kernel | strategy, budget | ranks | runs | session s | process s | "
          "evaluations/s | speedup | steady speedup | same configurations | within 5% of "
          "the recorded optimum (s) | best ms (mean) | best configuration |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        ref = refs.get(r["kernel"])
        w = ("no reference" if not ref else
             f"{r['within_5pct_s_mean']:.2f} ({r['within_5pct_reached']} of {r['repeats']} runs)"
             if r["within_5pct_reached"] else f"not reached in {r['repeats']} runs")
        same = "yes" if r["same_configurations_as_1_rank"] else "no"
        x, y = r["speedup_evaluations_per_s"], r["speedup_steady"]
        speedup = f"{x:.2f}x | {y:.2f}x" if x else "- | -"
        ranks = r["ranks"] or "1, no mpirun"
        print(f"| {r['kernel']} | {r['strategy']} | {ranks} | {r['repeats']} | "
              f"{r['seconds_mean']:.2f} | {r['mpirun_wall_s_mean']:.2f} | "
              f"{r['evaluations_per_s_mean']:.2f} | {speedup} | "
              f"{same} | {w} | {r['best_ms']:.4f} "
              f"({r['best_ms_mean']:.4f}) | {r['best_config']} |")
    for k, ref in refs.items():
        print(f"\n{k}: recorded optimum {ref['optimum_ms']:.4f} ms ({ref['space']})")


def main():
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="mode", required=True)
    r = sub.add_parser("run")
    r.add_argument("dir")
    r.add_argument("--build", default="build")
    r.add_argument("--mpirun", default="mpirun")
    r.add_argument("--kernels", default="convolution,sgemm")
    r.add_argument("--ranks", default="0,1,2")
    r.add_argument("--repeats", type=int, default=3)
    r.add_argument("--budget", type=int, default=100)
    r.add_argument("--strategy", default="bo")
    r.add_argument("--mpirun-args", default="", help='e.g. "--bind-to none"')
    r.add_argument("--timeout", type=float, default=300)
    s = sub.add_parser("report")
    s.add_argument("dir")
    s.add_argument("--reference", action="append", default=[])
    s.add_argument("--device", default="")
    s.add_argument("--note", default="")
    a = p.parse_args()
    run(a) if a.mode == "run" else report(a)


if __name__ == "__main__":
    main()
