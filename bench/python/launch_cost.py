#!/usr/bin/env python3
"""What a tuned launch costs from Python: cutune's launcher (the store's selection and the
launch, one call) against a plain CuPy RawKernel launch of the same kernel and
configuration, each timed on the host per call (perf_counter_ns) over N calls, median and
99th percentile; the GPU is synchronised every 100 calls, outside the timed calls. Also
Profiles.select alone, and the library's part of a launch (cutune_launch called with its
buffers made once). One JSON line.

    python3 bench/python/launch_cost.py [N]      (needs a GPU and CuPy)
"""
import ctypes
import json
import sys
import tempfile
import time

import cupy as cp
import numpy as np

import cutune

SOURCE = """
extern "C" __global__ void vector_add(float *c, const float *a, const float *b, int n) {
    int i = blockIdx.x * block_size_x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
}
"""
PARAMS = {"block_size_x": [64, 128, 256, 512, 1024]}
SIZE = 1 << 20


def timed(call, n):
    ns = np.empty(n, dtype=np.int64)
    for i in range(n):
        if i % 100 == 0:
            cp.cuda.get_current_stream().synchronize()
        t0 = time.perf_counter_ns()
        call()
        ns[i] = time.perf_counter_ns() - t0
    cp.cuda.get_current_stream().synchronize()
    return {"median_us": float(np.median(ns)) / 1e3,
            "p99_us": float(np.percentile(ns, 99)) / 1e3}


def main(n):
    with tempfile.TemporaryDirectory() as tmp:
        db = f"{tmp}/profiles.db"
        a = np.random.randn(SIZE).astype(np.float32)
        results, env = cutune.tune_kernel("vector_add", SOURCE, SIZE,
                                          [np.zeros_like(a), a, a, np.int32(SIZE)], PARAMS,
                                          db=db, quiet=True)
        profiles = cutune.Profiles(db)
        launch = profiles.launcher("vector_add", SOURCE, PARAMS)
        ga, gb = cp.asarray(a), cp.asarray(a)
        gc = cp.zeros_like(ga)
        nn = np.int32(SIZE)
        info = launch(SIZE, gc, ga, gb, nn)  # compiles and loads the selected configuration
        block = info.block[0]
        raw = cp.RawKernel(SOURCE.replace("block_size_x", str(block)), "vector_add")
        grid = ((SIZE + block - 1) // block,)
        raw(grid, (block,), (gc, ga, gb, nn))
        cp.cuda.get_current_stream().synchronize()
        # the library's part alone: the same launch with its buffers made once
        from cutune import profiles as pr
        slots, params = pr._slots(4)
        for i, a in enumerate((gc, ga, gb)):
            slots[i] = a.data.ptr
        slots[3] = SIZE
        problem, raw_info = pr._problem_ref(SIZE), ctypes.byref(cutune._native.LaunchInfo())
        stream = cp.cuda.get_current_stream().ptr

        def bare():
            if pr._LAUNCH(launch._l, problem, params, stream, raw_info):
                raise RuntimeError("launch failed")

        out = {"device": env["device_name"], "calls": n, "block_size_x": int(block),
               "rule": launch.select(SIZE).rule,
               "cupy_rawkernel": timed(lambda: raw(grid, (block,), (gc, ga, gb, nn)), n),
               "cutune_launch": timed(lambda: launch(SIZE, gc, ga, gb, nn), n),
               "cutune_launch_c_only": timed(bare, n),
               "cutune_select": timed(lambda: profiles.select("vector_add",
                                                              problem_size=SIZE), n)}
        assert cp.allclose(gc, ga + gb)
        out["ratio_median"] = out["cutune_launch"]["median_us"] / \
            out["cupy_rawkernel"]["median_us"]
        print(json.dumps(out))


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10000)
