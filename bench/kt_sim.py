#!/usr/bin/env python3
"""kt_sim.py — runs one of Kernel Tuner's search strategies in its simulation mode on a
recorded search space (a Kernel Tuner cache file) and writes the order in which it evaluated
configurations as a cutune trace: repeat,k,config_key,time_or_failure, one line each.

What counts as an evaluation is what Kernel Tuner counts against max_fevals: the first visit
of a configuration (its simulation runner adds it to `visited_results`). Repeated lookups of
a configuration already seen cost nothing there and are not written here either.

usage: kt_sim.py CACHE --strategy NAME --budget N --repeats R --seed S --trace OUT.csv
                 [--suggest-times OUT.json]
"""
import argparse
import gzip
import json
import os
import random
import sys
import tempfile
import time
import warnings

import numpy as np
from kernel_tuner import tune_kernel
from kernel_tuner.runners.simulation import SimulationRunner


def load_cache(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt") as f:
        return json.load(f)


class Recorder:
    """Watches the simulation runner: the configurations it sees for the first time, in
    order, and the wall-clock time between them (in simulation an evaluation is a lookup, so
    the gap is the strategy's own work plus Kernel Tuner's bookkeeping)."""

    def __init__(self):
        self.events = []
        self.last = None
        self.gaps = []

    def install(self):
        original = SimulationRunner.run
        recorder = self

        def run(runner, parameter_space, tuning_options):
            results = []
            for element in parameter_space:
                key = ",".join(str(v) for v in element)
                seen = key in runner.visited_results
                results.extend(original(runner, [element], tuning_options))
                if not seen and key in runner.visited_results:
                    now = time.perf_counter()
                    if recorder.last is not None:
                        recorder.gaps.append(now - recorder.last)
                    recorder.last = now
                    recorder.events.append(key)
            return results

        SimulationRunner.run = run


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cache")
    ap.add_argument("--strategy", required=True)
    ap.add_argument("--budget", type=int, required=True)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--trace", required=True)
    ap.add_argument("--suggest-times")
    args = ap.parse_args()
    if args.budget < 1 or args.repeats < 1:
        sys.exit("kt_sim.py: --budget and --repeats must be at least 1")

    data = load_cache(args.cache)
    keys = data["tune_params_keys"]
    params = {k: data["tune_params"][k] for k in keys}
    recorded = data["cache"]
    space = set(recorded)
    times = {k: v["time"] for k, v in recorded.items()}

    # Kernel Tuner reads a plain .json cache; the space is exactly the recorded entries
    tmp = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    json.dump(data, tmp)
    tmp.close()

    def in_space(p):
        return ",".join(str(p[k]) for k in keys) in space

    recorder = Recorder()
    recorder.install()
    warnings.simplefilter("ignore")
    out = open(args.trace, "w")
    gaps_by_k = {}
    try:
        for r in range(args.repeats):
            seed = args.seed + r
            random.seed(seed)
            np.random.seed(seed)
            recorder.events, recorder.last, recorder.gaps = [], None, []
            tune_kernel(
                data.get("kernel_name", "kernel"),
                "__global__ void kernel() {}",  # nothing is compiled in simulation mode
                data.get("problem_size", 1),
                [],
                params,
                restrictions=in_space,
                strategy=args.strategy,
                strategy_options={"max_fevals": args.budget},
                cache=tmp.name,
                simulation_mode=True,
                verbose=False,
                quiet=True,
            )
            for k, key in enumerate(recorder.events[: args.budget], 1):
                t = times[key]
                out.write(f"{r},{k},{key},{t if isinstance(t, str) else repr(float(t))}\n")
            for k, gap in enumerate(recorder.gaps, 2):  # gap before evaluation k
                gaps_by_k.setdefault(k, []).append(gap)
            print(f"{args.strategy} repeat {r}: {len(recorder.events)} evaluations",
                  file=sys.stderr)
    finally:
        out.close()
        os.unlink(tmp.name)
    if args.suggest_times:
        with open(args.suggest_times, "w") as f:
            json.dump({str(k): v for k, v in sorted(gaps_by_k.items())}, f)


if __name__ == "__main__":
    main()
