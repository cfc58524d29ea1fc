"""On the GPU: tuning from NumPy, CuPy and PyTorch arrays, answers checked, and launches of
the stored configuration on CuPy's and PyTorch's streams. Skipped without a GPU."""
import importlib.util

import numpy as np
import pytest

import cutune
from conftest import needs_gpu

pytestmark = needs_gpu
SOURCE = """
__global__ void vector_add(float *c, const float *a, const float *b, int n) {
    int i = blockIdx.x * block_size_x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
}
"""
PARAMS = {"block_size_x": [64, 128, 256, 512]}
N = 1 << 20


def inputs():
    rng = np.random.default_rng(7)
    return rng.standard_normal(N, dtype=np.float32), rng.standard_normal(N, dtype=np.float32)


def framework(name):
    if importlib.util.find_spec(name) is None:
        pytest.skip(f"{name} is not installed")
    return importlib.import_module(name)


def check_tuned(results, env):
    assert len(results) == len(PARAMS["block_size_x"])
    assert all(isinstance(r["time"], float) and r["time"] > 0 for r in results), results
    assert env["device_name"] and env["stats"]["verification_failed"] == 0


def test_numpy_arguments_and_answer(tmp_path):
    a, b = inputs()
    c = np.zeros_like(a)
    results, env = cutune.tune_kernel("vector_add", SOURCE, N, [c, a, b, np.int32(N)], PARAMS,
                                      answer=[a + b, None, None, None], quiet=True,
                                      db=str(tmp_path / "p.db"))
    check_tuned(results, env)
    # a wrong answer fails every configuration, and says so
    results, env = cutune.tune_kernel("vector_add", SOURCE, N, [c, a, b, np.int32(N)], PARAMS,
                                      answer=[a - b, None, None, None], quiet=True)
    assert all(r["time"] == "VerificationFailedConfig" for r in results)


def test_adaptive_timing():
    a, b = inputs()
    results, env = cutune.tune_kernel("vector_add", SOURCE, N, [np.zeros_like(a), a, b,
                                                                np.int32(N)], PARAMS,
                                      iterations=32, precision=0.02, quiet=True)
    assert all(6 <= len(r["times"]) <= 32 for r in results)
    assert env["stats"]["timed_launches"] == sum(len(r["times"]) for r in results)
    # every time with its median's interval; the 5 fastest timed again, the winner among them
    assert all(r["time_median_lo"] <= r["time_median"] <= r["time_median_hi"]
               for r in results if isinstance(r["time"], float))
    confirmed = [r for r in results if "time_confirmed" in r]
    ran = sum(isinstance(r["time"], float) for r in results)
    assert env["confirmed"] == len(confirmed) == min(5, ran) > 1
    assert env["confirmed_ms"] == min(r["time_confirmed"] for r in confirmed)
    lo, hi = env["confirmed_interval_ms"]
    assert lo <= env["confirmed_ms"] <= hi


def test_confirm_off():
    a, b = inputs()
    results, env = cutune.tune_kernel("vector_add", SOURCE, N, [np.zeros_like(a), a, b,
                                                                np.int32(N)], PARAMS,
                                      confirm=0, quiet=True)
    assert env["confirmed"] == 0 and env["confirmed_ms"] is None
    assert not any("time_confirmed" in r for r in results)


def test_cupy_arguments_after_cuda_started():
    cp = framework("cupy")
    a, b = inputs()
    ga, gb = cp.asarray(a), cp.asarray(b)  # CUDA is running in this process now
    results, env = cutune.tune_kernel("vector_add", SOURCE, N,
                                      [cp.zeros_like(ga), ga, gb, np.int32(N)], PARAMS,
                                      answer=[ga + gb, None, None, None], quiet=True)
    check_tuned(results, env)


def test_torch_arguments():
    torch = framework("torch")
    a, b = inputs()
    ta, tb = torch.from_numpy(a).cuda(), torch.from_numpy(b).cuda()
    results, env = cutune.tune_kernel("vector_add", SOURCE, N,
                                      [torch.zeros_like(ta), ta, tb, np.int32(N)], PARAMS,
                                      answer=[ta + tb, None, None, None], quiet=True)
    check_tuned(results, env)


def tuned_store(tmp_path):
    a, b = inputs()
    db = str(tmp_path / "profiles.db")
    results, _ = cutune.tune_kernel("vector_add", SOURCE, N, [np.zeros_like(a), a, b,
                                                              np.int32(N)], PARAMS, db=db,
                                    quiet=True)
    best = min(results, key=lambda r: r["time"])
    return db, best["block_size_x"]


def test_launch_on_cupy_stream(tmp_path):
    cp = framework("cupy")
    db, best = tuned_store(tmp_path)
    profiles = cutune.Profiles(db)
    assert profiles.select("vector_add", problem_size=N)["block_size_x"] == best
    launch = profiles.launcher("vector_add", cp.RawKernel(SOURCE, "vector_add"), PARAMS)
    a, b = (cp.asarray(x) for x in inputs())
    c = cp.zeros_like(a)
    stream = cp.cuda.Stream(non_blocking=True)
    with stream:
        info = launch(N, c, a, b, np.int32(N))
    stream.synchronize()
    assert cp.allclose(c, a + b)
    assert info.block[0] == best and info.grid[0] == N // best
    assert cutune.Profiles(db).select("vector_add", problem_size=N).rule == "exact"
    with pytest.raises(cutune.InvalidArgumentError, match="on the host"):
        launch(N, np.zeros(4, np.float32), a, b, np.int32(N))
    # from several threads at once, each on a stream of its own
    import threading
    outs = [cp.zeros_like(a) for _ in range(4)]

    def work(out):
        with cp.cuda.Stream(non_blocking=True) as s:
            for _ in range(50):
                launch(N, out, a, b, np.int32(N))
            s.synchronize()

    threads = [threading.Thread(target=work, args=(o,)) for o in outs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(bool(cp.allclose(o, a + b)) for o in outs)
    profiles.close()  # its launchers close first: a launch then is refused, not a crash
    with pytest.raises(cutune.InvalidArgumentError, match="closed"):
        launch(N, c, a, b, np.int32(N))


def test_launch_on_torch_stream(tmp_path):
    torch = framework("torch")
    db, best = tuned_store(tmp_path)
    launch = cutune.Profiles(db).launcher("vector_add", SOURCE, PARAMS)
    a, b = (torch.from_numpy(x).cuda() for x in inputs())
    c = torch.zeros_like(a)
    side = torch.cuda.Stream()
    with torch.cuda.stream(side):
        info = launch(N, c, a, b, np.int32(N))
    side.synchronize()
    assert torch.allclose(c, a + b)
    assert info.block[0] == best


def test_constant_memory_from_cmem_args():
    source = """
    __constant__ float d_w[4];
    __global__ void weigh(float *out, const float *in, const float *w, int n) {
        int i = blockIdx.x * block_size_x + threadIdx.x;
        if (i < n) out[i] = in[i] * d_w[i % 4];
    }
    """
    x, _ = inputs()
    w = np.array([1, -2, 0.5, 3], np.float32)
    results, env = cutune.tune_kernel("weigh", source, N, [np.zeros_like(x), x, w, np.int32(N)],
                                      PARAMS, cmem_args={"d_w": w},
                                      answer=[x * np.tile(w, N // 4), None, None, None],
                                      quiet=True)
    check_tuned(results, env)


def test_kernel_tuners_convolution_example():
    """Kernel Tuner's examples/cuda/convolution.py call (its kernel, restriction, grid
    divisors and cmem_args) on a corner of its space: every configuration drawn runs unless
    its block cannot fit an SM, and the restriction holds for each."""
    from conftest import repo_path
    with open(repo_path("tests", "data", "kernel_tuner", "convolution.cu")) as f:
        source = f.read()
    tune_params = {"filter_height": [15], "filter_width": [15], "block_size_x": [16, 32, 48],
                   "block_size_y": [4, 8], "tile_size_x": [1, 2], "tile_size_y": [1, 2],
                   "use_padding": [0, 1], "read_only": [0, 1]}
    problem_size = (4096, 4096)
    rng = np.random.default_rng(3)
    output = np.zeros(4096 * 4096, np.float32)
    inp = rng.standard_normal((4096 + 14) * (4096 + 14), dtype=np.float32)
    filt = rng.standard_normal(15 * 15, dtype=np.float32)
    results, env = cutune.tune_kernel(
        "convolution_kernel", source, problem_size, [output, inp, filt], tune_params,
        grid_div_y=["block_size_y", "tile_size_y"], grid_div_x=["block_size_x", "tile_size_x"],
        cmem_args={"d_filter": filt}, restrictions=["use_padding==0 or (block_size_x % 32 != 0)"],
        strategy="random_sample", strategy_options={"max_fevals": 12, "seed": 2}, quiet=True)
    assert len(results) == 12
    ran = [r for r in results if isinstance(r["time"], float)]
    # what does not run is a block its registers do not fit (48x8 threads with 2x2 tiles
    # need about 212 a thread on sm_90), told before launching
    assert all("pruned after compiling" in why for why in env["failures"].values())
    assert len(ran) + len(env["failures"]) == 12 and len(ran) >= 8
    assert all(r["use_padding"] == 0 or r["block_size_x"] % 32 != 0 for r in results)


def test_kernel_tuners_matmul_past_48k_of_static_shared_memory():
    """Kernel Tuner's matmul at 64x8 threads with 4x8 tiles declares 80 KiB of static shared
    memory, of which NVRTC makes no cubin: it runs from PTX, and its product is right."""
    from conftest import repo_path
    rng = np.random.default_rng(5)
    a = rng.standard_normal((4096, 4096), dtype=np.float32)
    b = rng.standard_normal((4096, 4096), dtype=np.float32)
    tune_params = {"block_size_x": [32, 64], "block_size_y": [4, 8], "tile_size_x": [4],
                   "tile_size_y": [8]}
    results, env = cutune.tune_kernel(
        "matmul_kernel", repo_path("tests", "data", "kernel_tuner", "matmul.cu"), (4096, 4096),
        [np.zeros_like(a), a, b], tune_params, grid_div_x=["block_size_x", "tile_size_x"],
        grid_div_y=["block_size_y", "tile_size_y"],
        restrictions=["block_size_x==block_size_y*tile_size_y"],
        answer=[a @ b, None, None], atol=1e-2, quiet=True)
    assert {(r["block_size_x"], r["block_size_y"]) for r in results} == {(32, 4), (64, 8)}
    assert all(isinstance(r["time"], float) for r in results), env["failures"]
