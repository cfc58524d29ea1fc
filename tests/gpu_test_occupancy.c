/* gpu_test_occupancy.c — cutune's occupancy calculator against the GPU's own answers: kernels
 * compiled with NVRTC at several register budgets and static shared memory sizes, their
 * register counts read back, and for each a grid of block sizes x dynamic shared memory x
 * carve-out preferences put to cudaOccupancyMaxActiveBlocksPerMultiprocessor. Every answer
 * must match, from the device's limits and from cutune's table for its architecture.
 * Exits 77 (skipped) without a GPU. */
#include "check.h"
#include "cutune.h"

#include <cuda_runtime.h>
#include <nvrtc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* LIVE values kept alive through a chain of multiply-adds: the register count follows LIVE
 * until --maxrregcount caps it. STATIC_SMEM bytes of __shared__ memory on top. */
static const char source[] =
    "extern \"C\" __global__ void probe(float *out, const float *in, int n)\n"
    "{\n"
    "    float v[LIVE];\n"
    "#pragma unroll\n"
    "    for (int i = 0; i < LIVE; i++) v[i] = in[(threadIdx.x + i * 97) % n];\n"
    "#pragma unroll\n"
    "    for (int r = 0; r < 8; r++)\n"
    "#pragma unroll\n"
    "        for (int i = 0; i < LIVE; i++) v[i] = v[i] * v[(i + 1) % LIVE] + v[(i + 3) % LIVE];\n"
    "    float s = 0;\n"
    "#pragma unroll\n"
    "    for (int i = 0; i < LIVE; i++) s += v[i];\n"
    "#if STATIC_SMEM > 0\n"
    "    __shared__ float buf[STATIC_SMEM / 4];\n"
    "    buf[threadIdx.x % (STATIC_SMEM / 4)] = s;\n"
    "    __syncthreads();\n"
    "    s += buf[(threadIdx.x + 1) % (STATIC_SMEM / 4)];\n"
    "#endif\n"
    "    out[blockIdx.x * blockDim.x + threadIdx.x] = s;\n"
    "}\n";

typedef struct kernel {
    cudaLibrary_t lib;
    cudaKernel_t fn;
    int regs;
    size_t static_smem;
} kernel;

static int compile(const cutune_arch *arch, int live, int maxrreg, int static_smem, kernel *k)
{
    char opt_arch[32], opt_live[32], opt_smem[48], opt_rreg[32];
    snprintf(opt_arch, sizeof opt_arch, "--gpu-architecture=sm_%d%d", arch->cc_major,
             arch->cc_minor);
    snprintf(opt_live, sizeof opt_live, "-DLIVE=%d", live);
    snprintf(opt_smem, sizeof opt_smem, "-DSTATIC_SMEM=%d", static_smem);
    snprintf(opt_rreg, sizeof opt_rreg, "--maxrregcount=%d", maxrreg);
    const char *opts[] = {opt_arch, opt_live, opt_smem, opt_rreg};
    nvrtcProgram prog;
    if (nvrtcCreateProgram(&prog, source, "probe.cu", 0, NULL, NULL) != NVRTC_SUCCESS)
        return -1;
    nvrtcResult r = nvrtcCompileProgram(prog, maxrreg ? 4 : 3, opts);
    if (r != NVRTC_SUCCESS) {
        size_t n;
        nvrtcGetProgramLogSize(prog, &n);
        char *log = malloc(n + 1);
        nvrtcGetProgramLog(prog, log);
        fprintf(stderr, "NVRTC: %s\n%s\n", nvrtcGetErrorString(r), log);
        free(log);
        nvrtcDestroyProgram(&prog);
        return -1;
    }
    size_t size;
    nvrtcGetCUBINSize(prog, &size);
    char *cubin = malloc(size);
    nvrtcGetCUBIN(prog, cubin);
    nvrtcDestroyProgram(&prog);
    cudaError_t e = cudaLibraryLoadData(&k->lib, cubin, NULL, NULL, 0, NULL, NULL, 0);
    free(cubin);
    struct cudaFuncAttributes attr;
    if (e == cudaSuccess)
        e = cudaLibraryGetKernel(&k->fn, k->lib, "probe");
    if (e == cudaSuccess)
        e = cudaFuncGetAttributes(&attr, (const void *)k->fn);
    if (e != cudaSuccess) {
        fprintf(stderr, "loading the cubin: %s\n", cudaGetErrorString(e));
        return -1;
    }
    k->regs = attr.numRegs;
    k->static_smem = attr.sharedSizeBytes;
    return 0;
}

int main(void)
{
    int count;
    if (cutune_device_count(&count) != CUTUNE_OK) {
        printf("skipped: %s\n", cutune_last_error());
        return SKIP_TEST;
    }
    cutune_device_info info;
    cutune_arch dev, table;
    CHECK_INT(cutune_device_query(0, &info), CUTUNE_OK);
    CHECK_INT(cutune_arch_from_device(&info, &dev), CUTUNE_OK);
    CHECK_INT(cutune_arch_find(dev.name, &table), CUTUNE_OK);
    printf("%s (%s), driver %d, runtime %d\n", info.name, dev.name, info.driver_version,
           info.runtime_version);

    static const int live[] = {2, 24, 64, 160};
    static const int maxrreg[] = {0, 32, 40, 64, 72, 128, 168, 255};
    static const int statics[] = {0, 4096, 40000};
    static const int threads[] = {1, 32, 33, 64, 96, 128, 160, 192, 224, 256, 288, 320, 384,
                                  448, 512, 640, 672, 768, 1000, 1024};
    static const int dynamic[] = {0, 1000, 4096, 8192, 12288, 16384, 24000, 32768, 49152,
                                  65536, 81920, 100000, 131072, 163840, 180000, 200704,
                                  227 * 1024};
    static const int carveouts[] = {-1, 0, 5, 10, 25, 33, 50, 66, 75, 90, 100};
    long answers = 0, mismatches = 0;
    int kernels = 0, seen_regs[256] = {0};
    for (size_t a = 0; a < sizeof live / sizeof *live; a++)
        for (size_t b = 0; b < sizeof maxrreg / sizeof *maxrreg; b++)
            for (size_t c = 0; c < sizeof statics / sizeof *statics; c++) {
                if (maxrreg[b] && live[a] < 24)
                    continue; /* a few registers either way */
                kernel k;
                if (compile(&dev, live[a], maxrreg[b], statics[c], &k)) {
                    CHECK(0);
                    continue;
                }
                kernels++;
                seen_regs[k.regs & 255] = 1;
                /* let the kernel use all the dynamic shared memory the device allows */
                int max_dynamic = dev.smem_per_block_optin - (int)k.static_smem;
                CHECK_INT(cudaFuncSetAttribute((const void *)k.fn,
                                               cudaFuncAttributeMaxDynamicSharedMemorySize,
                                               max_dynamic),
                          cudaSuccess);
                for (size_t v = 0; v < sizeof carveouts / sizeof *carveouts; v++) {
                    CHECK_INT(cudaFuncSetAttribute((const void *)k.fn,
                                                   cudaFuncAttributePreferredSharedMemoryCarveout,
                                                   carveouts[v]),
                              cudaSuccess);
                    for (size_t t = 0; t < sizeof threads / sizeof *threads; t++)
                        for (size_t d = 0; d < sizeof dynamic / sizeof *dynamic; d++) {
                            int want;
                            cudaError_t e = cudaOccupancyMaxActiveBlocksPerMultiprocessor(
                                &want, (const void *)k.fn, threads[t], (size_t)dynamic[d]);
                            if (e != cudaSuccess) /* over the kernel's limit: no answer */
                                continue;
                            cutune_launch l = {.threads = threads[t], .regs = k.regs,
                                               .static_smem = k.static_smem,
                                               .dynamic_smem = (size_t)dynamic[d],
                                               .max_dynamic_smem = (size_t)max_dynamic,
                                               .carveout = carveouts[v]};
                            int got = cutune_occupancy_blocks(&dev, &l);
                            int got_table = cutune_occupancy_blocks(&table, &l);
                            answers++;
                            if (got != want || got_table != want) {
                                if (++mismatches <= 20)
                                    fprintf(stderr,
                                            "regs %d static %zu threads %d dynamic %d carveout "
                                            "%d: runtime %d, cutune %d (table %d)\n",
                                            k.regs, k.static_smem, threads[t], dynamic[d],
                                            carveouts[v], want, got, got_table);
                            }
                        }
                }
                cudaLibraryUnload(k.lib);
            }
    int distinct = 0;
    for (int r = 0; r < 256; r++)
        distinct += seen_regs[r];
    printf("%d kernels (%d distinct register counts), %ld runtime answers, %ld mismatches\n",
           kernels, distinct, answers, mismatches);
    CHECK(distinct >= 5);
    CHECK(answers >= 10000);
    CHECK_INT(mismatches, 0);
    CHECK_DONE();
}
