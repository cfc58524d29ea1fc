"""tune_kernel without a GPU: the spec a call builds, what it refuses and how, simulation
sessions and their scores against the CLI's, and the profile store they fill."""
import ctypes
import json
import subprocess
from collections import OrderedDict

import numpy as np
import pytest

import cutune
from cutune import _native, spec as spec_mod
from conftest import gpu_name, repo_path

SPACE = repo_path("data", "spaces", "cutune", "dot_H200.json.gz")
VECTOR_ADD = """
__global__ void vector_add(float *c, float *a, float *b, int n) {
    int i = blockIdx.x * block_size_x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
}
"""


def vector_add_args(size=1000):
    a = np.random.randn(size).astype(np.float32)
    b = np.random.randn(size).astype(np.float32)
    return [np.zeros_like(a), a, b, np.int32(size)]


def load_space(path):
    space = ctypes.c_void_p()
    _native.call("cutune_space_load_t1", ctypes.byref(space), path.encode())
    count = ctypes.c_uint64()
    _native.call("cutune_space_count", space, ctypes.byref(count))
    _native.lib.cutune_space_free(space)
    return count.value


# ------------------------------------------------------------------ the spec a call builds

def matmul_spec():
    """Kernel Tuner's examples/cuda/matmul.py, as its call passes it."""
    tune_params = OrderedDict()
    tune_params["block_size_x"] = [16 * 2**i for i in range(3)]
    tune_params["block_size_y"] = [2**i for i in range(6)]
    tune_params["tile_size_x"] = [2**i for i in range(4)]
    tune_params["tile_size_y"] = [2**i for i in range(4)]
    a = np.zeros(64 * 64, dtype=np.float32)
    host = [(a, False), (a, False), (a, False)]
    with open(repo_path("tests", "data", "kernel_tuner", "matmul.cu")) as f:
        source = f.read()
    return spec_mod.build("matmul_kernel", "matmul.cu", source, (4096, 4096), host,
                          tune_params, grid_div=(["block_size_x", "tile_size_x"],
                                                 ["block_size_y", "tile_size_y"], None),
                          restrictions=["block_size_x==block_size_y*tile_size_y"],
                          outputs={0})


def test_matmul_spec_is_the_hand_written_one(tmp_path):
    spec = matmul_spec()
    ks = spec["KernelSpecification"]
    with open(repo_path("tests", "data", "kernel_tuner", "matmul.json")) as f:
        hand = json.load(f)["KernelSpecification"]
    for key in ("KernelName", "ProblemSize", "GridDivX", "GridDivY"):
        assert ks[key] == hand[key]
    assert "LocalSize" not in ks  # block_size_x/y as Kernel Tuner names them
    assert [a["Name"] for a in ks["Arguments"]] == ["C", "A", "B"]  # from the signature
    assert ks["Arguments"][0]["Output"] == 1 and "Output" not in ks["Arguments"][1]
    assert spec["ConfigurationSpace"]["Conditions"] == [
        {"Expression": "block_size_x==block_size_y*tile_size_y",
         "Parameters": ["block_size_x", "block_size_y", "tile_size_y"]}]
    path = tmp_path / "spec.json"
    path.write_text(json.dumps(spec))
    assert load_space(str(path)) == load_space(
        repo_path("tests", "data", "kernel_tuner", "matmul.json"))


def test_spec_types_scalars_and_block_defaults():
    host = [(np.zeros(10, np.float64), False), (np.asarray(3, np.int64), True),
            (np.zeros(10, np.uint8), False)]
    spec = spec_mod.build("k", "k.cu", "__global__ void k(double *x, long n, unsigned char *m)",
                          [10, "tile"], host, {"tile": [1, 2], "mode": ["a", "b"],
                                               "scale": [0.5, 1]})
    ks = spec["KernelSpecification"]
    assert [a["Type"] for a in ks["Arguments"]] == ["double", "int64", "uint8"]
    assert ks["Arguments"][1]["MemoryType"] == "Scalar"
    assert ks["ProblemSize"] == [10, "tile"]
    assert ks["LocalSize"] == {"X": 256, "Y": 1, "Z": 1}  # Kernel Tuner's 256 threads
    types = [p["Type"] for p in spec["ConfigurationSpace"]["TuningParameters"]]
    assert types == ["int", "string", "float"]


def test_custom_block_names_and_defines():
    host = [(np.zeros(4, np.float32), False)]
    spec = spec_mod.build("k", "k.cu", "", 4, host, {"bx": [32, 64]},
                          block_size_names=["bx"], defines={"N": 4},
                          compiler_options=["-use_fast_math"])
    ks = spec["KernelSpecification"]
    assert ks["LocalSize"] == {"X": "bx", "Y": 1, "Z": 1}
    assert ks["CompilerOptions"] == ["-use_fast_math", "-DN=4"]
    assert [a["Name"] for a in ks["Arguments"]] == ["arg0"]  # no signature to read


# ------------------------------------------------------------------- what it refuses

def refused(cls, text, **changes):
    kw = dict(kernel_name="vector_add", kernel_source=VECTOR_ADD, problem_size=1000,
              arguments=vector_add_args(), tune_params={"block_size_x": [32, 64]},
              quiet=True)
    kw.update(changes)
    with pytest.raises(cls) as info:
        cutune.tune_kernel(**kw)
    assert text in str(info.value)
    assert isinstance(info.value, cutune.Error)
    return info.value


def test_bad_arguments():
    args = vector_add_args()
    refused(cutune.InvalidArgumentError, "dtype float16",
            arguments=[args[0], args[1].astype(np.float16), args[2], args[3]])
    refused(cutune.InvalidArgumentError, "answer[0] is 999 x float32; argument 0 is 1000",
            answer=[np.zeros(999, np.float32), None, None, None])
    bad = np.zeros(1000, np.float32)
    bad[7] = np.nan
    refused(cutune.InvalidArgumentError, "holds nan at index 7", answer=[bad, None, None, None])
    refused(cutune.InvalidArgumentError, "answer has 2 entries", answer=[bad, None])
    refused(cutune.InvalidArgumentError, "given for a scalar",
            answer=[None, None, None, np.float32(1)])
    refused(cutune.InvalidArgumentError, "is a list", arguments=[[1.0, 2.0]])
    refused(cutune.InvalidArgumentError, "is a bool", arguments=[True])
    refused(cutune.InvalidArgumentError, "iterations is 0", iterations=0)
    refused(cutune.InvalidArgumentError, "tune_params['block_size_x'] is empty",
            tune_params={"block_size_x": []})
    refused(cutune.InvalidArgumentError, "not a C identifier",
            tune_params={"block size": [1]})
    refused(cutune.InvalidArgumentError, "atol", atol=float("nan"))
    refused(cutune.InvalidArgumentError, "precision is 1.5", precision=1.5)
    refused(cutune.InvalidArgumentError, "confirm is 17", confirm=17)
    refused(cutune.InvalidArgumentError, "confirm is True", confirm=True)
    refused(cutune.InvalidArgumentError, "problem_size[0] is 0", problem_size=0)
    refused(cutune.InvalidArgumentError, "does not exist", kernel_source="missing.cu")


def test_unknown_strategy_and_unsupported_options():
    e = refused(cutune.NotFoundError, "nearest: genetic", strategy="pso")
    assert e.status == 9 and isinstance(e, LookupError)
    refused(cutune.NotFoundError, "unknown strategy 'brute_forse'", strategy="brute_forse")
    refused(cutune.NotSupportedError, "expression string",
            restrictions=[lambda p: p["block_size_x"] > 32])
    refused(cutune.NotSupportedError, "verify", verify=lambda a, b, atol: True)
    refused(cutune.NotSupportedError, "CUDA only", lang="OpenCL")
    refused(cutune.NotSupportedError, "cannot steer", metrics={"x": lambda p: 1},
            objective="x")
    refused(cutune.InvalidArgumentError, "neither 'time' nor a metric", objective="GFLOP/s")


def test_library_errors_keep_their_message():
    # a restriction cutune's expression language cannot parse: the spec's own message
    e = refused(cutune.ParseError, "Conditions", restrictions=["block_size_x >> >"])
    assert e.status == 4
    e = refused(cutune.EmptySpaceError, "", restrictions=["block_size_x > 4096"],
                strategy="random")
    assert isinstance(e, cutune.Error)


def test_error_classes_pickle_intact():
    import pickle
    e = cutune.CompileError("kernel.cu(3): error", 16)
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is cutune.CompileError and back.message == e.message
    assert back.status == 16


# ------------------------------------------------------------- simulation, and its score

def simulate(seed, budget, **kw):
    return cutune.tune_kernel("reduce", "", None, [], None, cache=SPACE, simulation_mode=True,
                              strategy="bayes_opt",
                              strategy_options={"max_fevals": budget, "seed": seed},
                              quiet=True, **kw)


def test_simulation_results_are_kernel_tuners():
    results, env = simulate(1, 25)
    assert len(results) == 25 and env["evaluations"] == 25
    assert env["device_name"] == "NVIDIA H200" and env["simulation"]
    keys = {"BLOCK", "VW", "IPT", "GRID", "ATOMIC", "time", "times", "compile_time"}
    assert all(keys <= set(r) for r in results)
    times = [r["time"] for r in results if isinstance(r["time"], float)]
    assert min(times) == pytest.approx(env["best_ms"])
    json.dumps(results)  # plain Python values, as Kernel Tuner's scripts json.dump them
    again, _ = simulate(1, 25)
    assert [r["time"] for r in again] == [r["time"] for r in results]  # one seed, one search


def test_scores_equal_the_clis(cli, tmp_path):
    runs = [simulate(seed, 30)[0] for seed in (1, 2, 3)]
    ours = cutune.score(SPACE, runs)
    out = subprocess.run([cli, "sim", "--space", SPACE, "--strategy", "bo", "--budget", "30",
                          "--repeats", "3", "--seed", "1", "--threads", "1", "--json"],
                         check=True, capture_output=True, text=True).stdout
    assert ours == pytest.approx(json.loads(out)["score"], abs=1e-12)
    # the same runs as a trace file, scored by the CLI
    trace = tmp_path / "trace.csv"
    names = ["BLOCK", "VW", "IPT", "GRID", "ATOMIC"]
    trace.write_text("".join(f"{i},{k + 1},{','.join(str(r[p]) for p in names)},{r['time']}\n"
                             for i, run in enumerate(runs) for k, r in enumerate(run)))
    out = subprocess.run([cli, "sim", "--space", SPACE, "--score-trace", str(trace), "--json"],
                         check=True, capture_output=True, text=True).stdout
    assert ours == pytest.approx(json.loads(out)["score"], abs=1e-12)


def test_score_refuses_what_is_not_a_run():
    with pytest.raises(cutune.InvalidArgumentError):
        cutune.score(SPACE, [])
    with pytest.raises(cutune.InvalidArgumentError, match="lacks"):
        cutune.score(SPACE, [[{"BLOCK": 128}]])
    with pytest.raises(cutune.Error):
        cutune.score(SPACE, [["1,2,3"]])
    with pytest.raises(cutune.FileError):
        cutune.score("/nonexistent.json", [["x"]])


def test_simulation_checks_its_inputs():
    with pytest.raises(cutune.InvalidArgumentError, match="does not exist"):
        cutune.tune_kernel("k", "", None, [], None, cache="/nonexistent.json",
                           simulation_mode=True, quiet=True)
    with pytest.raises(cutune.InvalidArgumentError, match="the cache"):
        cutune.tune_kernel("k", "", None, [], {"BLOCK": [1]}, cache=SPACE,
                           simulation_mode=True, quiet=True)


# ---------------------------------------------------------------- the store, and select

def test_store_and_select(tmp_path):
    db = tmp_path / "profiles.db"
    results, env = simulate(4, 40, db=str(db))
    with cutune.Profiles(db) as profiles:
        stored = profiles.list()
        assert len(stored) == 1 and stored[0]["kernel"] == "reduce"
        best = min((r for r in results if isinstance(r["time"], float)),
                   key=lambda r: r["time"])
        sel = profiles.select("reduce", device="NVIDIA H200", problem_size=268435456)
        assert sel.rule == "exact" or sel.rule == "nearest size"
        assert dict(sel) == {k: best[k] for k in ("BLOCK", "VW", "IPT", "GRID", "ATOMIC")}
        assert sel.time_ms == pytest.approx(best["time"])
        other = profiles.select("reduce", device="NVIDIA H200", problem_size=1000)
        assert other.rule == "nearest size" and dict(other) == dict(sel)
        unknown = profiles.select("nothing", device="NVIDIA H200", problem_size=1000)
        assert unknown.rule == "default" and dict(unknown) == {}
        similar = profiles.select("reduce", device={"name": "NVIDIA H100 80GB HBM3",
                                                    "cc_major": 9, "cc_minor": 0,
                                                    "sm_count": 132}, problem_size=1000)
        assert similar.rule == "similar device"
        with pytest.raises(cutune.NotFoundError, match="knows no device"):
            profiles.select("reduce", device="NVIDIA A100", problem_size=1000)
        with pytest.raises(cutune.InvalidArgumentError, match="lacks"):
            profiles.select("reduce", device={"name": "x"}, problem_size=1000)
        with pytest.raises(cutune.InvalidArgumentError, match="problem_size"):
            profiles.select("reduce", device="NVIDIA H200", problem_size=(0,))
        if gpu_name() is None:  # a launcher needs a GPU, and says so
            with pytest.raises(cutune.NoDeviceError):
                profiles.launcher("reduce", "__global__ void reduce() {}", {"BLOCK": [128]})
        with pytest.raises(cutune.InvalidArgumentError, match="tune_params"):
            profiles.launcher("reduce", "__global__ void reduce() {}", {})
    with pytest.raises(cutune.InvalidArgumentError, match="is closed"):
        profiles.select("reduce", device="NVIDIA H200", problem_size=1000)
    # resume: what the store holds is taken as measured
    _, env2 = simulate(4, 40, db=str(db), resume=True)
    assert env2["stats"]["restored"] >= 1


def test_damaged_store_is_refused(tmp_path):
    db = tmp_path / "bad.db"
    db.write_bytes(b"SQLite format 3\0" + b"\xff" * 4000)
    with pytest.raises(cutune.Error) as info:
        cutune.Profiles(db)
    assert info.value.status in (3, 17)
    with pytest.raises(cutune.NotFoundError):
        cutune.Profiles(tmp_path / "none.db")  # read-only: nothing is created
    assert not (tmp_path / "none.db").exists()


# ------------------------------------------------------------------ printing, cache files

def test_quiet_prints_nothing_and_verbose_goes_to_stderr(capfd):
    simulate(1, 5)
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    cutune.tune_kernel("reduce", "", None, [], None, cache=SPACE, simulation_mode=True,
                       strategy="random", strategy_options={"max_fevals": 3}, verbose=True)
    out, err = capfd.readouterr()
    assert out == ""
    assert err.count("\ncutune: ") >= 3 and "configurations evaluated; best" in err


def test_kernel_tuner_cache_files(tmp_path):
    from cutune import ktcache
    path = tmp_path / "cache.json"
    here = gpu_name()  # the cache must be of the GPU here, when there is one
    header = {"device_name": here or "NVIDIA H200", "kernel_name": "k",
              "tune_params_keys": ["x"],
              "tune_params": {"x": [1, 2]}, "objective": "time"}
    entry = {"x": 1, "time": 1.5}
    # Kernel Tuner leaves its file open while it tunes: it still reads
    path.write_text(json.dumps(header)[:-1] + ', "cache": {\n"1": ' + json.dumps(entry) + ",\n")
    existing = ktcache.read(str(path))
    assert existing["cache"] == {"1": entry}
    with pytest.raises(cutune.InvalidArgumentError, match="holds kernel 'k'"):
        ktcache.check(existing, str(path), "other", {"x": [1]}, 0)
    with pytest.raises(cutune.InvalidArgumentError, match="holds parameters"):
        ktcache.check(existing, str(path), "k", {"y": [1]}, 0)
    if here:
        with pytest.raises(cutune.InvalidArgumentError, match="was measured on Elsewhere"):
            ktcache.check({**existing, "device_name": "Elsewhere"}, str(path), "k",
                          {"x": [1, 2]}, 0)
    ktcache.check(existing, str(path), "k", {"x": [1, 2]}, 0)
    new = tmp_path / "new.json"
    new.write_text(json.dumps({**header, "cache": {"2": {"x": 2, "time": 0.5},
                                                   "1": {"x": 1, "time": 1.25}}}))
    ktcache.write(str(path), existing, str(new))
    merged = json.loads(path.read_text())
    assert merged["cache"] == {"1": {"x": 1, "time": 1.25}, "2": {"x": 2, "time": 0.5}}
    assert [p.name for p in tmp_path.iterdir()] and not list(tmp_path.glob(".cutune-*"))
    (tmp_path / "junk.json").write_text("[1, 2")
    with pytest.raises(cutune.InvalidArgumentError, match="not a Kernel Tuner cache"):
        ktcache.read(str(tmp_path / "junk.json"))
    assert ktcache.read(str(tmp_path / "none.json")) is None


def test_cmem_and_defines_in_the_spec():
    """Kernel Tuner's convolution example passes its filter as an argument and as cmem_args:
    the argument of the same contents takes the __constant__'s name."""
    from cutune import tuning
    with open(repo_path("tests", "data", "kernel_tuner", "convolution.cu")) as f:
        source = f.read()
    out = np.zeros(64, np.float32)
    inp = np.random.randn(200).astype(np.float32)
    filt = np.random.randn(9).astype(np.float32)
    with pytest.raises(cutune.NotSupportedError, match="cmem_args\\['d_filter'\\] is not one"):
        tuning._prepare("convolution_kernel", source, (8, 8), [out, inp, filt],
                        {"block_size_x": [16]}, (None, None, None), None, None, None,
                        {"d_filter": np.ones(3, np.float32)}, None, None, None, None,
                        {"ignored_strategy_options": []}, "/tmp")
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        spec, job = tuning._prepare("convolution_kernel", source, (8, 8), [out, inp, filt],
                                    {"block_size_x": [16]}, (None, None, None), None, None,
                                    None, {"d_filter": filt.copy()}, ["-lineinfo"],
                                    {"filter_height": 3}, None, None, {}, tmp)
    args = spec["KernelSpecification"]["Arguments"]
    assert [a["Name"] for a in args] == ["output", "input", "d_filter"]
    assert args[2]["MemType"] == "Constant"
    assert spec["KernelSpecification"]["CompilerOptions"] == ["-lineinfo", "-Dfilter_height=3"]
    assert [name for name, _ in job["arguments"]] == ["output", "input", "d_filter"]


def test_ctrl_c_stops_after_the_configuration_in_hand(tmp_path):
    """SIGINT ends a session with what it measured so far (here a simulation, long enough
    with Bayesian optimisation over a large recorded space)."""
    import signal
    import sys
    import time
    script = tmp_path / "run.py"
    script.write_text(
        "import cutune, sys\n"
        f"r, env = cutune.tune_kernel('k', '', None, [], None, cache={repo_path('data', 'spaces', 'cutune', 'convolution_H200.json.gz')!r},\n"
        "    simulation_mode=True, strategy='bayes_opt', strategy_options={'max_fevals': 100000},\n"
        "    quiet=True)\n"
        "print(len(r), env['stop'], flush=True)\n")
    child = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    time.sleep(2)
    child.send_signal(signal.SIGINT)
    out, _ = child.communicate(timeout=60)
    count, stop = out.split()
    assert child.returncode == 0 and stop == "interrupted" and int(count) > 0
