/* l2_flush.cu — how many bytes a tuning worker must write to clear the L2 before a timed
 * launch (--flush-l2): a read of a buffer of 3/4 of the L2, timed right after it was read
 * (warm) and after writing 0.5, 1, 1.5, 2 and 3 times the L2's size elsewhere; median of 30
 * each. build/l2_flush on a GPU machine; docs/experiments.md has what it measured. */
#include <algorithm>
#include <cstdio>
#include <vector>

__global__ void sum(const float4 *a, size_t n, float *out)
{
    float s = 0;
    size_t stride = (size_t)gridDim.x * blockDim.x;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += stride) {
        float4 v = a[i];
        s += v.x + v.y + v.z + v.w;
    }
    if (s == 12345.f) /* (never: it keeps the loads) */
        *out = s;
}

int main()
{
    cudaDeviceProp p;
    cudaGetDeviceProperties(&p, 0);
    size_t l2 = p.l2CacheSize, bytes = l2 / 4 * 3, n = bytes / 16;
    float4 *a;
    float *out;
    char *flush;
    cudaMalloc(&a, bytes);
    cudaMalloc(&out, 4);
    cudaMalloc(&flush, 3 * l2);
    cudaMemset(a, 1, bytes);
    cudaEvent_t e0, e1;
    cudaEventCreate(&e0);
    cudaEventCreate(&e1);
    printf("%s, L2 %zu MiB, buffer %zu MiB\n", p.name, l2 >> 20, bytes >> 20);
    const double factors[] = {0, 0.5, 1, 1.5, 2, 3};
    for (double f : factors) {
        std::vector<float> t;
        for (int r = 0; r < 31; r++) { /* the first round is a warm-up */
            sum<<<p.multiProcessorCount * 4, 512>>>(a, n, out); /* now in the L2 */
            if (f > 0)
                cudaMemsetAsync(flush, r, (size_t)(f * l2));
            cudaEventRecord(e0);
            sum<<<p.multiProcessorCount * 4, 512>>>(a, n, out);
            cudaEventRecord(e1);
            cudaEventSynchronize(e1);
            float ms;
            cudaEventElapsedTime(&ms, e0, e1);
            if (r)
                t.push_back(ms);
        }
        std::sort(t.begin(), t.end());
        float median = t[t.size() / 2];
        printf("flush %.1fx L2: read %.4f ms (%.0f GB/s)\n", f, median, bytes / (median * 1e6));
    }
    return 0;
}
