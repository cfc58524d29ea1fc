#!/usr/bin/env python3
"""Tunes a vector addition from NumPy arrays, as Kernel Tuner's vector_add example does, and
keeps the result in a profile store for torch_launch.py to launch.

    python3 examples/python/vector_add.py [profiles.db]
"""
import sys

import numpy

import cutune as kernel_tuner  # a Kernel Tuner script changes only this line

SOURCE = """
__global__ void vector_add(float *c, const float *a, const float *b, int n) {
    int i = blockIdx.x * block_size_x + threadIdx.x;
    if (i < n) c[i] = a[i] + b[i];
}
"""


def main(db):
    size = 10_000_000
    a = numpy.random.randn(size).astype(numpy.float32)
    b = numpy.random.randn(size).astype(numpy.float32)
    c = numpy.zeros_like(b)
    args = [c, a, b, numpy.int32(size)]
    tune_params = {"block_size_x": [128 + 64 * i for i in range(15)]}
    results, env = kernel_tuner.tune_kernel("vector_add", SOURCE, size, args, tune_params,
                                            answer=[a + b, None, None, None], db=db)
    best = min((r for r in results if isinstance(r["time"], float)), key=lambda r: r["time"])
    print(f"{env['device_name']}: {len(results)} configurations; best block_size_x="
          f"{best['block_size_x']} at {best['time']:.4f} ms (kept in {db})")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "profiles.db")
