/* cuda_launch.h — one kernel launch for cutune_launch and the worker alike: cooperative when
 * the spec asks (every block resident at once, as a grid-wide barrier needs). */
#ifndef CUTUNE_CUDA_LAUNCH_H
#define CUTUNE_CUDA_LAUNCH_H

#include <cuda_runtime.h>

/* A cooperative grid too large to be resident fails with cudaErrorCooperativeLaunchTooLarge
 * and leaves the context usable, where a plain launch of a barrier kernel would hang. */
static inline cudaError_t ct_cuda_launch(const void *kernel, const unsigned grid[3],
                                         const unsigned block[3], void **args, size_t smem,
                                         cudaStream_t stream, int cooperative)
{
    cudaLaunchAttribute attr = {.id = cudaLaunchAttributeCooperative};
    attr.val.cooperative = 1;
    cudaLaunchConfig_t cfg = {.gridDim = {grid[0], grid[1], grid[2]},
                              .blockDim = {block[0], block[1], block[2]},
                              .dynamicSmemBytes = smem, .stream = stream, .attrs = &attr,
                              .numAttrs = cooperative ? 1 : 0};
    return cudaLaunchKernelExC(&cfg, kernel, args);
}

#endif
