"""cutune.tune_kernel: Kernel Tuner's call, tuned by cutune; and cutune.score, the
methodology score of searches on a recorded space."""
import ctypes
import json
import math
import os
import pickle
import subprocess
import sys
import tempfile

import numpy as np

from . import _native as n
from . import arguments as args_mod
from . import ktcache, session, spec as spec_mod
from .errors import Error, InvalidArgumentError, NotSupportedError


def _kernel_source(kernel_source, tmpdir):
    """(path, text) of the kernel: a file Kernel Tuner would read, else the source given
    (written beside the spec)."""
    if isinstance(kernel_source, (list, tuple)):
        if len(kernel_source) != 1:
            raise NotSupportedError("kernel_source as several files is not supported; give the "
                                    "one file, whose #includes NVRTC follows")
        kernel_source = kernel_source[0]
    if isinstance(kernel_source, os.PathLike):
        kernel_source = os.fspath(kernel_source)
    if not isinstance(kernel_source, str):
        raise InvalidArgumentError("kernel_source must be the kernel's source or its file name")
    if "\n" not in kernel_source and os.path.isfile(kernel_source):
        with open(kernel_source, encoding="utf-8", errors="replace") as f:
            return os.path.abspath(kernel_source), f.read()
    if "\n" not in kernel_source and kernel_source.endswith((".cu", ".cuh", ".c", ".h")):
        raise InvalidArgumentError(f"kernel_source names {kernel_source}, which does not exist")
    path = os.path.join(tmpdir, "kernel.cu")
    with open(path, "w") as f:
        f.write(kernel_source)
    return path, kernel_source


def _strategy_job(strategy, strategy_options):
    options = dict(strategy_options or {})
    job = {"strategy": session.strategy_name(strategy)}
    for key in ("max_fevals", "time_limit", "seed"):
        value = options.pop(key, None)
        if value is not None:
            seed = key == "seed"
            if not isinstance(value, (int, float)) or isinstance(value, bool) or \
                    (value < 0 if seed else value <= 0) or (seed and value != int(value)):
                raise InvalidArgumentError(f"strategy_options['{key}'] is {value!r}; a "
                                           f"{'whole number >= 0' if seed else 'positive number'}"
                                           " is expected")
            job[key] = value
    job["ignored_strategy_options"] = sorted(options)
    return job


def _metrics(metrics):
    """(string metrics for libcutune, callable ones for Python), in order."""
    strings, calls = [], []
    for name, m in (metrics or {}).items():
        if callable(m):
            calls.append((name, m))
        elif isinstance(m, str):
            if calls:
                raise NotSupportedError(f"metric '{name}' is an expression after a Python "
                                        "function; give the expressions first")
            strings.append((name, m))
        else:
            raise InvalidArgumentError(f"metrics['{name}'] must be a function of the result "
                                       "or an expression string")
    return strings, calls


def _apply_python_metrics(results, calls):
    for r in results:
        ok = isinstance(r.get("time"), (int, float))
        for name, fn in calls:
            try:
                r[name] = fn(r) if ok else r.get("time")
            except Exception as e:  # a metric that fails there is not a number there
                r[name] = f"MetricError: {type(e).__name__}: {e}"


def _run_child(job, tmpdir):
    with open(os.path.join(tmpdir, "job.pickle"), "wb") as f:
        pickle.dump(job, f)
    env = dict(os.environ)
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_parent, env.get("PYTHONPATH")]))
    child = subprocess.Popen([sys.executable, "-m", "cutune._child", tmpdir], env=env)
    while True:
        try:
            child.wait()
            break
        except KeyboardInterrupt:  # the child stops after the configuration in hand
            continue
    result_path = os.path.join(tmpdir, "result.pickle")
    if not os.path.exists(result_path):
        raise Error(f"cutune: the tuning process ended with status {child.returncode} and "
                    "left no result")
    with open(result_path, "rb") as f:
        kind, payload = pickle.load(f)
    if kind == "error":
        raise payload
    return payload


def _simulate(cache, tune_params, job, tmpdir):
    if not cache or not os.path.exists(cache):
        raise InvalidArgumentError(f"simulation_mode needs cache= a recorded space (a Kernel "
                                   f"Tuner cache file); {cache!r} does not exist")
    c = ctypes.c_void_p()
    s = ctypes.c_void_p()
    store = None
    n.call("cutune_cache_load", ctypes.byref(c), n.cstr(cache), None)
    try:
        space = n.lib.cutune_cache_space(c)
        names = [n.text(n.lib.cutune_space_param_name(space, p))
                 for p in range(n.lib.cutune_space_num_params(space))]
        if tune_params is not None and set(tune_params) != set(names):
            raise InvalidArgumentError(f"tune_params name {sorted(tune_params)}; the cache "
                                       f"{cache} records {sorted(names)}")
        n.call("cutune_session_new_cache", ctypes.byref(s), c, 0.0)
        store = session.open_store(job)
        results, facts = session.tune(s, store, job, tmpdir)
        facts.update({"device_name": n.text(n.lib.cutune_cache_device(c)), "simulation": True})
        return results, facts
    finally:
        n.lib.cutune_session_free(s)
        n.lib.cutune_cache_free(c)
        if store:
            n.lib.cutune_store_free(store)


def tune_kernel(kernel_name, kernel_source, problem_size, arguments, tune_params,
                grid_div_x=None, grid_div_y=None, grid_div_z=None, restrictions=None,
                answer=None, atol=1e-6, verify=None, verbose=False, lang=None, device=0,
                platform=0, smem_args=None, cmem_args=None, texmem_args=None, compiler=None,
                compiler_options=None, defines=None, log=None, iterations=7,
                block_size_names=None, quiet=False, strategy=None, strategy_options=None,
                cache=None, metrics=None, simulation_mode=False, observers=None, objective=None,
                objective_higher_is_better=None, *, db=None, resume=False, user_key="",
                default=None, precision=None, confirm=None):
    """Tunes a CUDA kernel as Kernel Tuner's tune_kernel does, with cutune's search,
    measurement and store. Returns (results, env): a dict per evaluated configuration, in
    the order evaluated (parameters, time, times, metrics, ...), and what ran where.

    cutune's own keywords: db (a profile store to keep every evaluation in), resume (go on
    from what the store holds of the same kernel, space and device), user_key (what else
    sets the store's profiles apart), default (a configuration measured first, for the
    speedup), precision (adaptive timing: each configuration timed until its median is known
    to this fraction, 0.01 for 1%, with `iterations` the cap; see docs/cli.md), confirm (how
    many of the fastest are timed again side by side at the end to choose the winner:
    default 5, 0 none). Without a
    GPU, simulation_mode=True replays cache= (a Kernel Tuner cache file).
    """
    for value, name in ((verify, "verify"), (texmem_args, "texmem_args"),
                        (observers, "observers")):
        if value:
            raise NotSupportedError(f"{name} is not supported by cutune (see docs/python.md)")
    if lang is not None and str(lang).lower() not in ("cuda", "cupy", "nvcuda"):
        raise NotSupportedError(f"lang {lang!r}: cutune compiles CUDA only")
    if not isinstance(iterations, int) or isinstance(iterations, bool) or \
            not 1 <= iterations <= 64:
        raise InvalidArgumentError(f"iterations is {iterations!r}; 1 to 64 timed launches "
                                   "per configuration are possible")
    if precision is not None and (not isinstance(precision, (int, float)) or
                                  not 0 < precision < 1):
        raise InvalidArgumentError(f"precision is {precision!r}; a fraction in (0, 1) such as "
                                   "0.01 is expected")
    if confirm is not None and (not isinstance(confirm, int) or isinstance(confirm, bool) or
                                not 0 <= confirm <= 16):
        raise InvalidArgumentError(f"confirm is {confirm!r}; 0 to 16 configurations timed "
                                   "again are possible")
    if not isinstance(atol, (int, float)) or not math.isfinite(atol) or atol < 0:
        raise InvalidArgumentError(f"atol is {atol!r}; a finite number >= 0 is expected")
    job = _strategy_job(strategy, strategy_options)
    strings, calls = _metrics(metrics)
    if objective not in (None, "time") and objective in dict(calls):
        raise NotSupportedError(f"objective '{objective}' is a Python function, which cannot "
                                "steer cutune's search; give it as an expression string")
    if objective not in (None, "time") and objective not in dict(strings):
        raise InvalidArgumentError(f"objective '{objective}' is neither 'time' nor a metric")
    job.update({"metrics": strings, "objective": objective,
                "higher_is_better": bool(objective_higher_is_better), "verbose": verbose,
                "db": os.fspath(db) if db else None, "resume": resume, "user_key": user_key,
                "device": device, "iterations": iterations, "atol": atol,
                "precision": precision or 0.0,
                "confirm": 0 if confirm is None else (confirm or -1)})
    cache_path = existing = None
    if cache and not simulation_mode:
        cache_path = os.path.abspath(os.fspath(cache))
        existing = ktcache.read(cache_path)
        ktcache.check(existing, cache_path, kernel_name, tune_params or {}, device)

    with tempfile.TemporaryDirectory(prefix="cutune-") as tmpdir:
        if simulation_mode:
            results, facts = _simulate(os.fspath(cache) if cache else None, tune_params, job,
                                       tmpdir)
            spec = None
        else:
            spec, job = _prepare(kernel_name, kernel_source, problem_size, arguments,
                                 tune_params, (grid_div_x, grid_div_y, grid_div_z),
                                 restrictions, answer, smem_args, cmem_args, compiler_options,
                                 defines, block_size_names, default, job, tmpdir)
            if not quiet:
                print(f"cutune: tuning {kernel_name} with {job['strategy']}", file=sys.stderr,
                      flush=True)
            results, facts = _run_child(job, tmpdir)
            if cache_path:
                ktcache.write(cache_path, existing, facts["results_file"])
        del facts["results_file"]
    _apply_python_metrics(results, calls)
    env = {"kernel_name": kernel_name, "problem_size": problem_size,
           "strategy": job["strategy"], "iterations": iterations, "objective": objective or "time",
           "cutune_version": n.text(n.lib.cutune_version()), "spec": spec,
           "ignored_strategy_options": job["ignored_strategy_options"], **facts}
    if not quiet:
        best = min((r for r in results if isinstance(r.get("time"), (int, float))),
                   key=lambda r: r["time"], default=None)
        names = list(tune_params) if tune_params else []
        print(f"cutune: {env.get('device_name')}: {len(results)} configurations evaluated; "
              + (f"best {best['time']:.4f} ms at "
                 + ", ".join(f"{k}={best[k]}" for k in names if k in best)
                 if best else "none ran"), file=sys.stderr, flush=True)
    return results, env


def _prepare(kernel_name, kernel_source, problem_size, arguments, tune_params, grid_div,
             restrictions, answer, smem_args, cmem_args, compiler_options, defines,
             block_size_names, default, job, tmpdir):
    """Checks what a GPU session is given and writes its spec; the job for _child.py."""
    if not isinstance(arguments, (list, tuple)):
        raise InvalidArgumentError("arguments must be a list of arrays and scalars")
    host = [args_mod.to_host(a, f"arguments[{i}]") for i, a in enumerate(arguments)]
    answers = args_mod.check_answer(answer, host)
    kernel_file, source = _kernel_source(kernel_source, tmpdir)
    cmem = {}
    for name, value in (cmem_args or {}).items():
        matches = [i for i, (a, scalar) in enumerate(host)
                   if not scalar and _same_array(value, a, arguments[i])]
        if not matches:
            raise NotSupportedError(f"cmem_args['{name}'] is not one of the arguments: cutune "
                                    "fills a __constant__ from the kernel argument of the same "
                                    "contents, as Kernel Tuner's convolution example passes it")
        cmem[matches[0]] = name
    smem = None
    if smem_args:
        smem = smem_args.get("size") if isinstance(smem_args, dict) else None
        if callable(smem) or not isinstance(smem, (int, str)):
            raise NotSupportedError("smem_args: cutune takes {'size': bytes or an expression "
                                    "string}")
    spec = spec_mod.build(kernel_name, os.path.basename(kernel_file), source, problem_size,
                          host, tune_params, grid_div=grid_div,
                          block_size_names=block_size_names, restrictions=restrictions,
                          outputs={i for i, a in enumerate(answers) if a is not None},
                          cmem_names=cmem, compiler_options=compiler_options, defines=defines,
                          smem_size=smem, default=default)
    spec_path = os.path.join(tmpdir, "spec.json")
    with open(spec_path, "w") as f:
        json.dump(spec, f, indent=1)
    space = ctypes.c_void_p()  # the space loads here, so that its errors come at once
    n.call("cutune_space_load_t1", ctypes.byref(space), n.cstr(spec_path))
    n.lib.cutune_space_free(space)
    names = [a["Name"] for a in spec["KernelSpecification"]["Arguments"]]
    job.update({"spec": spec_path, "kernel_file": kernel_file,
                "arguments": [(names[i], a) for i, (a, _) in enumerate(host)],
                "answers": [(names[i], a) for i, a in enumerate(answers) if a is not None]})
    return spec, job


def _same_array(value, host, original):
    if value is original:
        return True
    try:
        other, _ = args_mod.to_host(value, "cmem_args")
    except Error:
        return False
    return other.dtype == host.dtype and other.size == host.size and \
        np.array_equal(other.ravel(), host.ravel())


def score(cache, runs):
    """The methodology score of searches on a recorded space (0: as good as random search,
    1: optimal from the first evaluation), as `cutune sim --score-trace` computes it: each
    run's best-so-far by the recorded times, averaged over the runs.

    cache: a Kernel Tuner cache file. runs: a list of runs, each a list of configurations in
    the order evaluated (dicts with the parameters, such as tune_kernel's results)."""
    if not runs or not all(isinstance(r, (list, tuple)) for r in runs):
        raise InvalidArgumentError("runs must be a non-empty list of runs, each a list of "
                                   "configurations")
    c, b = ctypes.c_void_p(), ctypes.c_void_p()
    n.call("cutune_cache_load", ctypes.byref(c), n.cstr(os.fspath(cache)), None)
    try:
        n.call("cutune_baseline_new", c, ctypes.byref(b))
        space = n.lib.cutune_cache_space(c)
        names = [n.text(n.lib.cutune_space_param_name(space, p))
                 for p in range(n.lib.cutune_space_num_params(space))]
        horizon = n.lib.cutune_baseline_horizon(b)
        median = n.lib.cutune_baseline_median(b)
        width = max(horizon, max(len(r) for r in runs))
        config = (ctypes.c_uint32 * max(1, len(names)))()
        entry = ctypes.c_size_t()
        total = [0.0] * width
        for i, run in enumerate(runs):
            best, curve = math.nan, []
            for k, conf in enumerate(run):
                key = _key(conf, names, i, k)
                n.call("cutune_space_parse_key", space, n.cstr(key), config)
                n.call("cutune_cache_find", c, config, ctypes.byref(entry))
                t = n.lib.cutune_cache_time(c, entry.value, None)
                if not math.isnan(t) and (math.isnan(best) or t < best):
                    best = t
                curve.append(median if math.isnan(best) else best)
            for k in range(width):  # flat after the run's last evaluation
                total[k] += curve[k] if k < len(curve) else (curve[-1] if curve else median)
        mean = (ctypes.c_double * width)(*[t / len(runs) for t in total])
        out = ctypes.c_double()
        n.call("cutune_score", b, mean, width, ctypes.byref(out))
        return out.value
    finally:
        n.lib.cutune_baseline_free(b)
        n.lib.cutune_cache_free(c)


def _key(conf, names, run, k):
    if isinstance(conf, str):
        return conf
    if not isinstance(conf, dict):
        raise InvalidArgumentError(f"runs[{run}][{k}] is a {type(conf).__name__}, not a "
                                   "configuration dict")
    missing = [p for p in names if p not in conf]
    if missing:
        raise InvalidArgumentError(f"runs[{run}][{k}] lacks {', '.join(missing)}")
    return ",".join(str(conf[p]) for p in names)
