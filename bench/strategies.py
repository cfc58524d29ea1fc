#!/usr/bin/env python3
"""strategies.py — scores cutune's strategies and Kernel Tuner's on the same recorded spaces
with the same code, and prints one table.

For each space the budget is its horizon K (cutune's default). Kernel Tuner's strategies run
in its simulation mode through kt_sim.py, `repeats` sessions each with seeds 1, 2, ...; each
run's evaluation order is scored by `cutune sim --score-trace`. cutune's strategies run in
`cutune sim --all-strategies` with the same repeats and seeds. Then both tuners' BO suggestion
times after 200 observations of a 10,000-configuration synthetic space, in the same run.

usage: strategies.py --cli build/cutune [--repeats 50] [--jobs N] [--kt-strategies a,b,...]
"""
import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
KT_DEFAULT = ("random_sample,genetic_algorithm,simulated_annealing,dual_annealing,pso,"
              "diff_evo,bayes_opt,firefly_algorithm,greedy_ils,mls,basinhopping")
OUT = "build/bench-out/strategies"


def run_json(cmd):
    done = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return json.loads(done.stdout)


def label(path):
    return path.replace("data/spaces/", "").replace(".json.gz", "")


def kt_run(cli, space, name, strategy, budget, repeats):
    """One Kernel Tuner strategy on one space: its trace, then cutune's score of it."""
    trace = f"{OUT}/{name}.{strategy}.csv"
    log = f"{OUT}/{name}.{strategy}.log"
    start = time.time()
    with open(log, "w") as err:
        rc = subprocess.run([sys.executable, f"{HERE}/kt_sim.py", space, "--strategy", strategy,
                             "--budget", str(budget), "--repeats", str(repeats), "--seed", "1",
                             "--trace", trace], stderr=err).returncode
    seconds = time.time() - start
    if rc != 0:
        return {"strategy": "kt:" + strategy, "space": space, "error": f"failed, see {log}"}
    result = run_json([cli, "sim", "--space", space, "--score-trace", trace, "--label",
                       "kt:" + strategy, "--json"])
    # sessions that stopped before the budget (the strategy ended on its own)
    lengths = {}
    with open(trace) as f:
        for line in f:
            r, k = line.split(",", 2)[:2]
            lengths[r] = int(k)
    result["short_sessions"] = sum(1 for k in lengths.values() if k < budget)
    result["seconds"] = seconds
    return result


def suggest_times(cli, repeats):
    """Median time of the BO suggestion made with 200 observations, both tuners."""
    synth = f"{OUT}/synthetic10k.json"
    subprocess.run([sys.executable, f"{HERE}/synthetic_space.py", synth], check=True)
    ours = run_json([cli, "sim", "--space", synth, "--strategy", "bo", "--budget", "201",
                     "--repeats", str(repeats), "--threads", "1", "--json"])
    gaps = f"{OUT}/synthetic10k.bayes_opt.gaps.json"
    subprocess.run([sys.executable, f"{HERE}/kt_sim.py", synth, "--strategy", "bayes_opt",
                    "--budget", "201", "--repeats", str(repeats), "--seed", "1", "--trace",
                    f"{OUT}/synthetic10k.bayes_opt.csv", "--suggest-times", gaps],
                   check=True, stderr=subprocess.DEVNULL)
    with open(gaps) as f:
        by_k = json.load(f)
    theirs = statistics.median(by_k["201"]) * 1e3 if "201" in by_k else float("nan")
    near = [g for k, v in by_k.items() if 191 <= int(k) <= 201 for g in v]
    return ours["suggest_ms_last"], theirs, statistics.median(near) * 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--jobs", type=int, default=os.cpu_count())
    ap.add_argument("--kt-strategies", default=KT_DEFAULT)
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    spaces = sorted(glob.glob("data/spaces/*/*.json.gz"))
    kt_strategies = args.kt_strategies.split(",")
    import kernel_tuner.interface  # noqa: F401 (fail early when Kernel Tuner is missing)
    from importlib.metadata import version
    kt_version = version("kernel_tuner")

    start = time.time()
    space_args = [a for s in spaces for a in ("--space", s)]
    ours = run_json([args.cli, "sim", "--all-strategies", "--repeats", str(args.repeats),
                     "--seed", "1", "--json"] + space_args)["results"]
    ours_seconds = time.time() - start
    budget = {r["space"]: r["budget"] for r in ours}

    start = time.time()
    jobs = [(s, label(s).replace("/", "-"), k) for s in spaces for k in kt_strategies]
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        theirs = list(pool.map(lambda j: kt_run(args.cli, j[0], j[1], j[2], budget[j[0]],
                                                args.repeats), jobs))
    kt_seconds = time.time() - start

    score = {}
    for r in ours + theirs:
        score[(r["strategy"], r["space"])] = r.get("score", float("nan"))
    rows = [r["strategy"] for r in ours if r["space"] == spaces[0]]
    rows += ["kt:" + s for s in kt_strategies]
    names = [label(s) for s in spaces]
    width = max(len(r) for r in rows + ["best of Kernel Tuner"])

    print(f"\nScore against random search (0 = random, 1 = optimal from the first evaluation); "
          f"{args.repeats} sessions per cell, budget K of each space; Kernel Tuner {kt_version}")
    print(" " * width + "".join(f" {n.split('/')[-1]:>9}" for n in names))
    print(f"{'K':<{width}}" + "".join(f" {budget[s]:>9}" for s in spaces))
    for row in rows:
        print(f"{row:<{width}}" + "".join(f" {score.get((row, s), float('nan')):>9.3f}"
                                          for s in spaces))
    verdict = []
    for tuner, pick in (("cutune", lambda r: not r.startswith("kt:")),
                        ("Kernel Tuner", lambda r: r.startswith("kt:"))):
        best = []
        for s in spaces:
            cands = [(score.get((r, s), float("nan")), r) for r in rows if pick(r)]
            cands = [c for c in cands if c[0] == c[0]]
            best.append(max(cands) if cands else (float("nan"), "-"))
        verdict.append(best)
        print(f"{'best of ' + tuner:<{width}}" + "".join(f" {b[0]:>9.3f}" for b in best))
    wins = sum(1 for a, b in zip(*verdict) if a[0] > b[0])
    print(f"{'winner':<{width}}" + "".join(
        f" {'cutune' if a[0] > b[0] else 'KT':>9}" for a, b in zip(*verdict)))
    print(f"cutune's best strategy scores higher on {wins} of {len(spaces)} spaces "
          f"(spaces: {', '.join(names)})")
    for r in theirs:
        if "error" in r:
            print(f"{r['strategy']} on {label(r['space'])}: {r['error']}")
        elif r["short_sessions"]:
            print(f"{r['strategy']} on {label(r['space'])}: {r['short_sessions']} of "
                  f"{args.repeats} sessions ended before the budget")
    print(f"time: cutune {ours_seconds:.1f} s for its {len(ours)} cells, Kernel Tuner "
          f"{kt_seconds:.1f} s for {len(theirs)} ({args.jobs} at a time)")

    ours_ms, theirs_ms, theirs_near = suggest_times(args.cli, 5)
    print(f"BO suggestion after 200 observations of 10,000 configurations (median of 5 "
          f"sessions): cutune bo {ours_ms:.3f} ms (one core), Kernel Tuner bayes_opt "
          f"{theirs_ms:.1f} ms (median over evaluations 191-201: {theirs_near:.1f} ms; the gap "
          f"between evaluations, which is its whole per-evaluation overhead)")
    with open(f"{OUT}/results.json", "w") as f:
        json.dump({"cutune": ours, "kernel_tuner": theirs, "kt_version": kt_version}, f,
                  indent=1)


if __name__ == "__main__":
    main()
