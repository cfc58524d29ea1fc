"""Running one libcutune session and reading its results back as Kernel Tuner's: shared by
the GPU route (in the tuning process, _child.py) and the simulation route (in this one)."""
import ctypes
import json
import math
import os
import signal
import sys
import threading

from . import _native as n
from . import errors

STOP_NAMES = {0: "budget", 1: "time limit", 2: "space exhausted"}


def strategy_name(strategy):
    """cutune's name for a strategy named by cutune or Kernel Tuner; brute force by default,
    as Kernel Tuner's."""
    found = ctypes.c_char_p()
    n.call("cutune_strategy_lookup", n.cstr(strategy or "brute_force"), ctypes.byref(found))
    return n.text(found.value)


def configure(s, job):
    """The job's metrics (expressions) and objective."""
    for name, expression in job.get("metrics", []):
        n.call("cutune_session_add_metric", s, n.cstr(name), n.cstr(expression))
    if job.get("objective") not in (None, "time"):
        n.call("cutune_session_set_objective", s, n.cstr(job["objective"]),
               int(bool(job.get("higher_is_better"))))


class _Progress:
    """The evaluation callback: keeps the order of the evaluations, prints them when asked
    (to stderr, as the CLI does), and stops the run at Ctrl-C."""

    def __init__(self, s, verbose):
        self.s, self.verbose, self.order, self.interrupted = s, verbose, [], False
        self.fn = n.EVALUATION_FN(self._on_evaluation)

    def _on_evaluation(self, e, _user):
        e = e.contents
        if not e.pruned:
            self.order.append(e.entry)
        if self.verbose:
            key = n.lib.cutune_session_key(self.s, e.entry, ctypes.create_string_buffer(512), 512)
            what = f"{e.time_ms:.4f} ms" if not math.isnan(e.time_ms) else n.text(e.failure)
            print(f"cutune: {e.k}: {n.text(key)}: {what}", file=sys.stderr, flush=True)
        return 15 if self.interrupted else 0  # CUTUNE_ECANCELED: the run ends there


def tune(s, store, job, tmpdir):
    """What both routes do with a session made: its metrics and objective, the store (which
    the caller frees after the session), the budget, the run; (results, facts)."""
    configure(s, job)
    keep_in_store(s, store, job)
    job["budget"] = budget_for(n.lib.cutune_session_space(s), job)
    results, facts = run(s, job, tmpdir)
    facts["budget"] = job["budget"]
    return results, facts


def run(s, job, tmpdir):
    """Runs the session; returns (results in evaluation order, session facts)."""
    opts = n.SearchOptions(strategy=n.cstr(job["strategy"]), budget=job["budget"],
                           time_limit_s=float(job.get("time_limit") or 0),
                           seed=int(job.get("seed", 1)))
    progress = _Progress(s, job.get("verbose"))
    # Ctrl-C ends the run after the configuration in hand (signals reach the main thread)
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.getsignal(signal.SIGINT)

    def interrupt(_sig, _frame):
        progress.interrupted = True

    if previous is not None:
        signal.signal(signal.SIGINT, interrupt)
    result = n.SessionResult()
    try:
        status = n.lib.cutune_session_run(s, ctypes.byref(opts), progress.fn, None,
                                          ctypes.byref(result))
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if status and not (status == 15 and progress.interrupted):
        raise errors.from_status(status, n.text(n.lib.cutune_last_error()))
    cache_path = os.path.join(tmpdir, "results.json")
    n.call("cutune_session_write_kt_cache", s, n.cstr(cache_path))
    with open(cache_path) as f:
        written = json.load(f)
    entries = written.get("cache", {})
    buf = ctypes.create_string_buffer(n.KEY_MAX)
    results, failures = [], {}
    for entry in progress.order:
        key = n.text(n.lib.cutune_session_key(s, entry, buf, n.KEY_MAX))
        if key in entries:
            results.append(entries[key])
        why = n.lib.cutune_session_failure(s, entry)
        if why:
            failures[key] = n.text(why)
    r = result
    facts = {"evaluations": r.search.evaluations, "pruned": r.search.pruned,
             "stop": "interrupted" if progress.interrupted else STOP_NAMES.get(r.search.stop),
             "best_ms": _number(r.search.best_ms), "default_ms": _number(r.default_ms),
             "speedup": _number(r.speedup), "best_median_ms": _number(r.best_median_ms),
             "best_median_interval_ms": [_number(r.best_lo_ms), _number(r.best_hi_ms)],
             "confirmed": r.confirmed, "confirmed_ms": _number(r.confirmed_ms),
             "confirmed_interval_ms": [_number(r.confirmed_lo_ms),
                                       _number(r.confirmed_hi_ms)],
             "search_best": _key(s, r.search_best_entry, buf),
             "seconds": r.seconds, "failures": failures,
             "stats": {name: getattr(r.stats, name) for name, _ in n.SessionStats._fields_
                       if name != "warm_start_problem"}}
    facts["results_file"] = cache_path
    return results, facts


def _key(s, entry, buf):
    """A configuration's key, or None for none (a search that measured nothing)."""
    if entry == ctypes.c_size_t(-1).value:
        return None
    return n.text(n.lib.cutune_session_key(s, entry, buf, n.KEY_MAX))


def _number(x):
    return None if math.isnan(x) else x


def device_facts(s):
    d = n.lib.cutune_session_device(s)
    if not d:
        return {}
    d = d.contents
    return {"device_name": n.text(d.name), "compute_capability": f"{d.cc_major}{d.cc_minor}",
            "driver_version": d.driver_version, "cuda_version": d.runtime_version,
            "sm_count": d.sm_count}


def open_store(job):
    if not job.get("db"):
        return None
    store = ctypes.c_void_p()
    n.call("cutune_store_open", ctypes.byref(store), n.cstr(job["db"]), 0)
    return store


def keep_in_store(s, store, job):
    if store:
        n.call("cutune_session_set_store", s, store, n.cstr(job.get("user_key") or ""),
               int(bool(job.get("resume"))))


def budget_for(space, job):
    """Kernel Tuner's max_fevals, else every valid configuration for brute force or a time
    limit, else 100 (Kernel Tuner's default for its other strategies) or the space if
    smaller. (A budget past the space ends when the space is exhausted.)"""
    count = ctypes.c_uint64()
    n.call("cutune_space_count", space, ctypes.byref(count))
    if job.get("max_fevals"):
        return int(job["max_fevals"])
    if job["strategy"] == "brute" or job.get("time_limit"):
        return max(1, count.value)
    return max(1, min(100, count.value))

