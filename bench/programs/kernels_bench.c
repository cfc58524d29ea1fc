/* kernels_bench.c — the hardware's and the vendor's marks that cutune's kernels are held to,
 * measured in the same run as they are (bench/scripts/kernels.sh): cuBLAS SGEMM (FP32, no tensor
 * cores) at 4096^3, 1024^3 and the skinny 8192x64x8192, and a device-to-device copy of
 * 1 GiB. Each is the best of 10 timed runs (CUDA events) after 3 warm-up runs. Prints one
 * JSON object. */
#include "cutune.h"

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <stdio.h>
#include <stdlib.h>

#define CHECK_CUDA(x)                                                                         \
    do {                                                                                      \
        cudaError_t e_ = (x);                                                                 \
        if (e_ != cudaSuccess) {                                                              \
            fprintf(stderr, "kernels_bench: %s: %s\n", #x, cudaGetErrorString(e_));           \
            exit(1);                                                                          \
        }                                                                                     \
    } while (0)

static cudaEvent_t t0, t1;

static double best_ms(void (*run)(void *), void *arg)
{
    float best = 1e30f;
    for (int k = 0; k < 13; k++) {
        CHECK_CUDA(cudaEventRecord(t0, 0));
        run(arg);
        CHECK_CUDA(cudaEventRecord(t1, 0));
        CHECK_CUDA(cudaEventSynchronize(t1));
        float ms;
        CHECK_CUDA(cudaEventElapsedTime(&ms, t0, t1));
        if (k >= 3 && ms < best)
            best = ms;
    }
    return best;
}

typedef struct gemm {
    cublasHandle_t h;
    int m, n, k;
    float *a, *b, *c;
} gemm;

/* Row-major C = A B is column-major C^T = B^T A^T. */
static void run_gemm(void *arg)
{
    gemm *g = arg;
    const float alpha = 1, beta = 0;
    if (cublasSgemm(g->h, CUBLAS_OP_N, CUBLAS_OP_N, g->n, g->m, g->k, &alpha, g->b, g->n, g->a,
                    g->k, &beta, g->c, g->n) != CUBLAS_STATUS_SUCCESS) {
        fprintf(stderr, "kernels_bench: cublasSgemm failed\n");
        exit(1);
    }
}

static double gemm_tflops(cublasHandle_t h, int m, int n, int k)
{
    gemm g = {h, m, n, k, NULL, NULL, NULL};
    CHECK_CUDA(cudaMalloc((void **)&g.a, sizeof(float) * (size_t)m * k));
    CHECK_CUDA(cudaMalloc((void **)&g.b, sizeof(float) * (size_t)k * n));
    CHECK_CUDA(cudaMalloc((void **)&g.c, sizeof(float) * (size_t)m * n));
    CHECK_CUDA(cudaMemset(g.a, 0, sizeof(float) * (size_t)m * k));
    CHECK_CUDA(cudaMemset(g.b, 0, sizeof(float) * (size_t)k * n));
    double ms = best_ms(run_gemm, &g);
    cudaFree(g.a);
    cudaFree(g.b);
    cudaFree(g.c);
    return 2.0 * m * n * k / ms / 1e9;
}

typedef struct copy {
    void *dst, *src;
    size_t bytes;
} copy;

static void run_copy(void *arg)
{
    copy *c = arg;
    CHECK_CUDA(cudaMemcpyAsync(c->dst, c->src, c->bytes, cudaMemcpyDeviceToDevice, 0));
}

int main(void)
{
    cutune_device_info dev;
    if (cutune_device_query(0, &dev) != CUTUNE_OK) {
        fprintf(stderr, "kernels_bench: %s\n", cutune_last_error());
        return 3;
    }
    CHECK_CUDA(cudaEventCreate(&t0));
    CHECK_CUDA(cudaEventCreate(&t1));
    cublasHandle_t h;
    if (cublasCreate(&h) != CUBLAS_STATUS_SUCCESS ||
        cublasSetMathMode(h, CUBLAS_PEDANTIC_MATH) != CUBLAS_STATUS_SUCCESS) {
        fprintf(stderr, "kernels_bench: cuBLAS cannot start\n");
        return 1;
    }
    double g4096 = gemm_tflops(h, 4096, 4096, 4096), g1024 = gemm_tflops(h, 1024, 1024, 1024),
           skinny = gemm_tflops(h, 8192, 64, 8192);
    cublasDestroy(h);
    copy c = {NULL, NULL, (size_t)1 << 30};
    CHECK_CUDA(cudaMalloc(&c.dst, c.bytes));
    CHECK_CUDA(cudaMalloc(&c.src, c.bytes));
    CHECK_CUDA(cudaMemset(c.src, 1, c.bytes));
    double copy_ms = best_ms(run_copy, &c);
    printf("{\"device\": \"%s\", \"driver\": %d, \"cublas_sgemm4096_tflops\": %.2f, "
           "\"cublas_sgemm1024_tflops\": %.2f, \"cublas_sgemm_skinny_tflops\": %.2f, "
           "\"d2d_copy_gbps\": %.0f}\n",
           dev.name, dev.driver_version, g4096, g1024, skinny,
           2.0 * (double)c.bytes / copy_ms / 1e6);
    cudaFree(c.dst);
    cudaFree(c.src);
    return 0;
}
