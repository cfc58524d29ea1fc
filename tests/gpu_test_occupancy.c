/* gpu_test_occupancy.c — cutune's occupancy calculator against the GPU's own answers: kernels
 * compiled with cutune_compile (NVRTC) at several register budgets and static shared memory
 * sizes, their register counts read back, and for each a grid of block sizes x dynamic shared
 * memory x carve-out preferences put to cudaOccupancyMaxActiveBlocksPerMultiprocessor. Every answer
 * must match, from the device's limits and from cutune's table for its architecture; and the
 * register and shared memory counts cutune reads from ptxas must be the runtime's.
 * Exits 77 (skipped) without a GPU. */
#include "check.h"
#include "cutune.h"

#include <cuda_runtime.h>
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

/* ptxas's report (what cutune prunes with, before any launch) must agree with the runtime */
static int report_mismatches;

static int compile(const cutune_arch *arch, int live, int maxrreg, int static_smem, kernel *k)
{
    char def_live[32], def_smem[48], opt_rreg[32];
    snprintf(def_live, sizeof def_live, "LIVE=%d", live);
    snprintf(def_smem, sizeof def_smem, "STATIC_SMEM=%d", static_smem);
    snprintf(opt_rreg, sizeof opt_rreg, "--maxrregcount=%d", maxrreg);
    const char *defines[] = {def_live, def_smem}, *options[] = {opt_rreg};
    cutune_compile_request r = {.source = source, .source_name = "probe.cu", .kernel = "probe",
                                .arch = arch->name, .defines = defines, .num_defines = 2,
                                .options = options, .num_options = maxrreg ? 1 : 0,
                                .cache_dir = ""};
    cutune_binary *bin;
    if (cutune_compile(&r, &bin)) {
        fprintf(stderr, "%s\n", cutune_last_error());
        return -1;
    }
    size_t size;
    const void *cubin = cutune_binary_code(bin, &size);
    cutune_binary_info info;
    cutune_binary_get_info(bin, &info);
    cudaError_t e = cudaLibraryLoadData(&k->lib, cubin, NULL, NULL, 0, NULL, NULL, 0);
    struct cudaFuncAttributes attr;
    if (e == cudaSuccess)
        e = cudaLibraryGetKernel(&k->fn, k->lib, info.lowered_name);
    if (e == cudaSuccess)
        e = cudaFuncGetAttributes(&attr, (const void *)k->fn);
    if (e != cudaSuccess) {
        fprintf(stderr, "loading the cubin: %s\n", cudaGetErrorString(e));
        cutune_binary_free(bin);
        return -1;
    }
    k->regs = attr.numRegs;
    k->static_smem = attr.sharedSizeBytes;
    if (info.regs != attr.numRegs || info.static_smem != attr.sharedSizeBytes) {
        report_mismatches++;
        fprintf(stderr, "ptxas said %d registers and %zu bytes, the runtime %d and %zu\n",
                info.regs, info.static_smem, attr.numRegs, attr.sharedSizeBytes);
    }
    cutune_binary_free(bin);
    return 0;
}

static int setup(void)
{
    int count;
    if (cutune_device_count(&count) != CUTUNE_OK) {
        printf("skipped: %s\n", cutune_last_error());
        return SKIP_TEST;
    }
    return 0;
}

/* kernels of many register and shared memory counts: the runtime's answers and cutune's */
static void against_runtime(void)
{
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
                            cutune_block_resources l = {.threads = threads[t], .regs = k.regs,
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
    printf("%d kernels (%d distinct register counts; ptxas's counts wrong for %d), %ld runtime "
           "answers, %ld mismatches\n",
           kernels, distinct, report_mismatches, answers, mismatches);
    CHECK_INT(report_mismatches, 0);
    CHECK(distinct >= 5);
    CHECK(answers >= 10000);
    CHECK_INT(mismatches, 0);
}

TEST_LIST(TEST_CASE(against_runtime));

int main(int argc, char **argv) { return TEST_RUN(argc, argv, setup, NULL); }
