#!/usr/bin/env python3
"""Launches the configuration vector_add.py tuned, from PyTorch tensors, on PyTorch's current
stream: the profile store picks block_size_x for this GPU and size, cutune compiles it once
and launches it in the same CUDA context as PyTorch.

    python3 examples/python/vector_add.py profiles.db   # first
    python3 examples/python/torch_launch.py profiles.db
"""
import sys

import numpy
import torch

import cutune
from vector_add import SOURCE


def main(db):
    size = 10_000_000
    a = torch.randn(size, device="cuda")
    b = torch.randn(size, device="cuda")
    c = torch.empty_like(a)
    profiles = cutune.Profiles(db)
    launch = profiles.launcher("vector_add", SOURCE,
                               {"block_size_x": [128 + 64 * i for i in range(15)]})
    info = launch(size, c, a, b, numpy.int32(size))  # on torch.cuda.current_stream()
    torch.cuda.synchronize()
    assert torch.equal(c, a + b)
    chosen = launch.select(size)
    print(f"launched block_size_x={chosen['block_size_x']} ({chosen.rule} profile), grid "
          f"{info.grid[0]}: c == a + b")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "profiles.db")
