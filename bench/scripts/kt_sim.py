#!/usr/bin/env python3
"""kt_sim.py: run one Kernel Tuner search strategy in simulation mode on a recorded space
(a Kernel Tuner cache file, .json or .json.gz) and write the configurations it evaluated,
in order, as a cutune trace: `repeat,k,config_key,time_or_failure`, one line each.

usage: kt_sim.py CACHE --strategy NAME --budget N --repeats R --seed S --trace OUT.csv
                 [--suggest-times OUT.json]

Counting. Kernel Tuner 1.5 charges max_fevals in its simulation runner: a configuration is
charged the first time the runner serves it from the cache, failed entries included (they are
in the cache). Asking again for a configuration already served costs nothing, and a
configuration that breaks the restrictions is answered "invalid" before it reaches the runner
and costs nothing either. The trace mirrors that: one line per first serving, which we see
by replacing the runner's set of visited keys with one that logs its additions.

The space: a restriction that accepts a configuration only if its key is in the cache, so the
space Kernel Tuner builds is exactly the recorded configurations (the size is checked).

Seeds: repeat r uses seed S + r for Python's `random`, numpy's global generator (what the
strategies and scipy draw from) and tune_kernel's `seed` argument.

A summary of the run, one JSON object, goes to stdout: evaluations per repeat, crashes.
"""
import argparse
import gzip
import json
import os
import random
import statistics
import sys
import tempfile
import time
import traceback
import warnings

import numpy as np
import kernel_tuner
from kernel_tuner.interface import strategy_map


def load_cache(path):
    with (gzip.open if path.endswith(".gz") else open)(path, "rt") as f:
        return json.load(f)


class VisitLog(set):
    """Stands in for the simulation runner's `visited_results`. The runner adds a key exactly
    when it charges an evaluation to the budget, so the additions are Kernel Tuner's fevals."""

    def __init__(self, on_first_visit):
        super().__init__()
        self.on_first_visit = on_first_visit

    def add(self, key):
        if key not in self:
            self.on_first_visit(key)
        super().add(key)


class Observed:
    """A strategy object for tune_kernel that runs Kernel Tuner's own strategy after noting
    the size of the space it was given and putting a VisitLog into the runner."""

    def __init__(self, name):
        self.module = strategy_map[name]
        self.keys, self.stamps, self.space_size = [], [], None

    def visit(self, key):
        self.stamps.append(time.perf_counter())
        self.keys.append(key)

    def tune(self, searchspace, runner, tuning_options):
        self.space_size = searchspace.size
        runner.visited_results = VisitLog(self.visit)
        return self.module.tune(searchspace, runner, tuning_options)


def cell(entry):
    t = entry["time"]
    return t if isinstance(t, str) else repr(float(t))


def main():
    ap = argparse.ArgumentParser(description="Kernel Tuner strategy -> cutune trace")
    ap.add_argument("cache")
    ap.add_argument("--strategy", required=True)
    ap.add_argument("--budget", type=int, required=True)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--trace", required=True)
    ap.add_argument("--suggest-times", metavar="OUT.json",
                    help="write the wall-clock gaps between successive evaluations")
    args = ap.parse_args()
    if args.budget < 1 or args.repeats < 1:
        sys.exit("kt_sim.py: --budget and --repeats must be at least 1")
    if args.strategy not in strategy_map:
        sys.exit(f"kt_sim.py: unknown strategy {args.strategy}")

    data = load_cache(args.cache)
    names = data["tune_params_keys"]
    tune_params = {n: data["tune_params"][n] for n in names}
    recorded = data["cache"]

    def recorded_only(p):
        return ",".join(str(p[n]) for n in names) in recorded

    # tune_kernel wants a plain file whose name ends in .json
    fd, plain = tempfile.mkstemp(suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(data, f)

    warnings.simplefilter("ignore")
    summary = {"strategy": args.strategy, "cache": args.cache, "budget": args.budget,
               "repeats": args.repeats, "kernel_tuner": kernel_tuner.__version__,
               "space_size": None, "recorded": len(recorded), "evaluations": [],
               "errors": []}
    gaps = {}  # k -> gaps (s) before evaluation k, one per repeat that got that far
    start = time.time()
    try:
        with open(args.trace, "w") as out:
            for r in range(args.repeats):
                seed = args.seed + r
                random.seed(seed)
                np.random.seed(seed)
                strategy = Observed(args.strategy)
                try:
                    kernel_tuner.tune_kernel(
                        data.get("kernel_name", "kernel"),
                        "__global__ void kernel() {}",  # never compiled in simulation mode
                        data.get("problem_size", 1),
                        [],
                        tune_params,
                        restrictions=recorded_only,
                        strategy=strategy,
                        strategy_options={"max_fevals": args.budget},
                        cache=plain,
                        simulation_mode=True,
                        seed=seed,
                        verbose=False,
                        quiet=True,
                    )
                except Exception as e:  # keep going: a crash is reported, not hidden
                    line = traceback.format_exception_only(e)[-1].strip()
                    summary["errors"].append(f"repeat {r}: {line}")
                    print(f"repeat {r}: crashed after {len(strategy.keys)} evaluations\n"
                          + traceback.format_exc(), file=sys.stderr)
                if strategy.space_size is not None:
                    if strategy.space_size != len(recorded):
                        sys.exit(f"kt_sim.py: Kernel Tuner built {strategy.space_size} "
                                 f"configurations, the cache records {len(recorded)}")
                    summary["space_size"] = strategy.space_size
                summary["evaluations"].append(len(strategy.keys))
                for k, key in enumerate(strategy.keys[:args.budget], 1):
                    out.write(f"{r},{k},{key},{cell(recorded[key])}\n")
                s = strategy.stamps
                for k in range(2, min(len(s), args.budget) + 1):
                    gaps.setdefault(k, []).append(s[k - 1] - s[k - 2])
    finally:
        os.unlink(plain)
    summary["seconds"] = round(time.time() - start, 2)
    ev = summary["evaluations"]
    summary["short_repeats"] = sum(1 for n in ev if n < args.budget)
    summary["over_budget_repeats"] = sum(1 for n in ev if n > args.budget)

    if args.suggest_times:
        # The gap before evaluation k runs from the runner serving evaluation k-1 to it
        # serving k: the strategy's own work to choose k with k-1 observations (for
        # bayes_opt: model update, predictions, acquisition) plus Kernel Tuner's per-call
        # bookkeeping and any lookups of configurations it had already seen. The lookup
        # itself is a dict access, so nothing here is kernel time.
        def ms(xs):
            return round(statistics.median(xs) * 1e3, 3) if xs else None
        lo, hi = max(2, args.budget - 11), args.budget
        window = [g for k in range(lo, hi + 1) for g in gaps.get(k, [])]
        report = {"strategy": args.strategy, "budget": args.budget,
                  "window": [lo, hi],
                  "median_ms_window": ms(window),
                  "mean_ms_window": round(statistics.fmean(window) * 1e3, 3) if window else None,
                  "median_ms_last": ms(gaps.get(hi, [])),
                  "median_ms_all": ms([g for v in gaps.values() for g in v]),
                  "gaps_ms": {k: [round(g * 1e3, 4) for g in v] for k, v in sorted(gaps.items())}}
        with open(args.suggest_times, "w") as f:
            json.dump(report, f)
        summary["suggest_times"] = {k: v for k, v in report.items() if k != "gaps_ms"}
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
