// gpu_test_device.cu — on a machine with a GPU: cutune's device description agrees with the
// CUDA runtime's own answers, and a kernel built for sm_80/sm_90(+PTX) runs. Skipped (77)
// without a device.
#include "cutune.h"

#include <cstdio>
#include <cstring>
#include <cuda_runtime.h>

__global__ void iota(int *out, int n)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n)
        out[i] = i;
}

static int failures = 0;
#define EXPECT_EQ(a, b)                                                                    \
    do {                                                                                   \
        long long a_ = (long long)(a), b_ = (long long)(b);                                \
        if (a_ != b_) {                                                                    \
            std::fprintf(stderr, "%s:%d: %s = %lld, runtime says %lld\n", __FILE__,        \
                         __LINE__, #a, a_, b_);                                            \
            failures++;                                                                    \
        }                                                                                  \
    } while (0)

int main()
{
    int count = 0;
    if (cutune_device_count(&count) != CUTUNE_OK) {
        std::printf("skipped: no CUDA device: %s\n", cutune_last_error());
        return 77;
    }
    cudaDeviceProp p;
    if (cudaGetDeviceProperties(&p, 0) != cudaSuccess)
        return 1;
    cutune_device_info d;
    if (cutune_device_query(0, &d) != CUTUNE_OK) {
        std::fprintf(stderr, "cutune_device_query: %s\n", cutune_last_error());
        return 1;
    }
    if (std::strcmp(d.name, p.name) != 0) {
        std::fprintf(stderr, "name '%s' vs '%s'\n", d.name, p.name);
        failures++;
    }
    EXPECT_EQ(d.cc_major, p.major);
    EXPECT_EQ(d.cc_minor, p.minor);
    EXPECT_EQ(d.sm_count, p.multiProcessorCount);
    EXPECT_EQ(d.total_memory, p.totalGlobalMem);
    EXPECT_EQ(d.l2_cache_bytes, p.l2CacheSize);
    EXPECT_EQ(d.regs_per_sm, p.regsPerMultiprocessor);
    EXPECT_EQ(d.regs_per_block, p.regsPerBlock);
    EXPECT_EQ(d.smem_per_sm, p.sharedMemPerMultiprocessor);
    EXPECT_EQ(d.smem_per_block, p.sharedMemPerBlock);
    EXPECT_EQ(d.smem_per_block_optin, p.sharedMemPerBlockOptin);
    EXPECT_EQ(d.smem_reserved_per_block, p.reservedSharedMemPerBlock);
    EXPECT_EQ(d.max_threads_per_sm, p.maxThreadsPerMultiProcessor);
    EXPECT_EQ(d.max_threads_per_block, p.maxThreadsPerBlock);
    EXPECT_EQ(d.max_blocks_per_sm, p.maxBlocksPerMultiProcessor);
    EXPECT_EQ(d.mem_bus_width_bits, p.memoryBusWidth);

    const int n = 1 << 20;
    int *dev = nullptr;
    if (cudaMalloc(&dev, n * sizeof(int)) != cudaSuccess)
        return 1;
    iota<<<(n + 255) / 256, 256>>>(dev, n);
    static int host[1 << 20];
    cudaError_t err = cudaMemcpy(host, dev, sizeof host, cudaMemcpyDeviceToHost);
    if (err != cudaSuccess) {
        std::fprintf(stderr, "kernel or copy failed: %s\n", cudaGetErrorString(err));
        return 1;
    }
    for (int i = 0; i < n; i++)
        if (host[i] != i) {
            std::fprintf(stderr, "kernel wrote %d at %d\n", host[i], i);
            failures++;
            break;
        }
    cudaFree(dev);
    std::printf("%s: sm_%d%d, %d SMs; kernel ran\n", d.name, d.cc_major, d.cc_minor, d.sm_count);
    return failures ? 1 : 0;
}
