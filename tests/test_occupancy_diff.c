/* test_occupancy_diff.c — cutune's occupancy calculator against the CUDA toolkit's own
 * (cuda_occupancy.h, a host-only header that compiles as C): for every architecture in
 * cutune's tables, a million random launches, many of them over some limit, must give the
 * same blocks per SM, the same bound from each resource, the same limiters and the same
 * allocations; and the best block size must agree with cudaOccMaxPotentialOccupancyBlockSize.
 * The toolkit's header is fed the limits from cutune's table, so this checks the rules; the
 * table's numbers are checked against a real H100 in test_occupancy and gpu_test_occupancy. */
#include "check.h"
#include "cutune.h"

#include <cuda_occupancy.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LAUNCHES_PER_ARCH 1000000
#define BEST_BLOCK_PER_ARCH 20000

static cudaOccDeviceProp props_of(const cutune_arch *a)
{
    cudaOccDeviceProp p;
    memset(&p, 0, sizeof p);
    p.computeMajor = a->cc_major;
    p.computeMinor = a->cc_minor;
    p.maxThreadsPerBlock = a->max_threads_per_block;
    p.maxThreadsPerMultiprocessor = a->max_threads_per_sm;
    p.regsPerBlock = a->regs_per_block;
    p.regsPerMultiprocessor = a->regs_per_sm;
    p.warpSize = a->warp_size;
    p.sharedMemPerBlock = (size_t)a->smem_per_block;
    p.sharedMemPerMultiprocessor = (size_t)a->smem_per_sm;
    p.numSms = a->sm_count;
    p.sharedMemPerBlockOptin = (size_t)a->smem_per_block_optin;
    p.reservedSharedMemPerBlock = (size_t)a->smem_reserved_per_block;
    return p;
}

/* What the runtime fills in for a kernel (cudaOccFuncAttributes from cudaFuncAttributes):
 * opt-in limit config, one barrier, no partitioned caching, no virtual resources. */
static cudaOccFuncAttributes attrs_of(const cutune_block_resources *l)
{
    cudaOccFuncAttributes f;
    memset(&f, 0, sizeof f);
    f.maxThreadsPerBlock = INT_MAX;
    f.numRegs = l->regs;
    f.sharedSizeBytes = l->static_smem;
    f.partitionedGCConfig = PARTITIONED_GC_OFF;
    f.shmemLimitConfig = FUNC_SHMEM_LIMIT_OPTIN;
    f.maxDynamicSharedSizeBytes = l->max_dynamic_smem ? l->max_dynamic_smem : l->dynamic_smem;
    f.numBlockBarriers = 1;
    f.virtualResourceCount = 0;
    return f;
}

static cudaOccDeviceState state_of(const cutune_block_resources *l)
{
    cudaOccDeviceState s;
    memset(&s, 0, sizeof s);
    s.cacheConfig = CACHE_PREFER_NONE;
    s.carveoutConfig = l->carveout;
    return s;
}

static uint64_t below(cutune_rng *r, uint64_t n) { return cutune_rng_below(r, n); }

/* A launch drawn to cover the corners: block sizes off warp multiples and over the limit,
 * register counts up to and past the maximum, shared memory from none to more than any SM. */
static cutune_block_resources random_launch(cutune_rng *r)
{
    cutune_block_resources l;
    memset(&l, 0, sizeof l);
    switch (below(r, 4)) {
    case 0: l.threads = 1 + (int)below(r, 64); break;
    case 1: l.threads = 32 * (1 + (int)below(r, 32)); break;
    case 2: l.threads = 1 + (int)below(r, 1024); break;
    default: l.threads = 1 + (int)below(r, 2048); break;
    }
    l.regs = below(r, 20) ? (int)below(r, 256) : (int)below(r, 300);
    l.static_smem = below(r, 2) ? 0 : (size_t)below(r, below(r, 4) ? 49153 : 120000);
    switch (below(r, 5)) {
    case 0: l.dynamic_smem = 0; break;
    case 1: l.dynamic_smem = 1024 * below(r, 65); break;
    case 2: l.dynamic_smem = (size_t)below(r, 65536); break;
    default: l.dynamic_smem = (size_t)below(r, 240 * 1024); break;
    }
    l.max_dynamic_smem = below(r, 4) ? 0 : 1 + (size_t)below(r, 240 * 1024);
    l.carveout = below(r, 2) ? -1 : (int)below(r, 101);
    return l;
}

static int mismatches;

static void report(const cutune_arch *a, const cutune_block_resources *l, const char *what,
                   long mine, long theirs)
{
    if (++mismatches <= 20)
        fprintf(stderr,
                "%s threads %d regs %d static %zu dynamic %zu max_dynamic %zu carveout %d: "
                "%s cutune %ld, cuda_occupancy.h %ld\n",
                a->name, l->threads, l->regs, l->static_smem, l->dynamic_smem,
                l->max_dynamic_smem, l->carveout, what, mine, theirs);
}

static void compare_one(const cutune_arch *a, const cudaOccDeviceProp *p,
                        const cutune_block_resources *l)
{
    cudaOccFuncAttributes f = attrs_of(l);
    cudaOccDeviceState s = state_of(l);
    cudaOccResult r;
    memset(&r, 0, sizeof r);
    cudaOccError err = cudaOccMaxActiveBlocksPerMultiprocessor(&r, p, &f, &s, l->threads,
                                                               l->dynamic_smem);
    cutune_occupancy o;
    int st = cutune_occupancy_compute(a, l, &o);
    if ((err != CUDA_OCC_SUCCESS) != (st != CUTUNE_OK)) {
        report(a, l, "status", st, err);
        return;
    }
    if (st)
        return;
    unsigned theirs = r.limitingFactors & (OCC_LIMIT_WARPS | OCC_LIMIT_REGISTERS |
                                           OCC_LIMIT_SHARED_MEMORY | OCC_LIMIT_BLOCKS);
#define SAME(what, mine, ref)                  \
    if ((long)(mine) != (long)(ref))           \
        report(a, l, what, (long)(mine), (long)(ref));
    SAME("blocks per SM", o.blocks_per_sm, r.activeBlocksPerMultiprocessor)
    SAME("bound by warps", o.blocks_by_warps, r.blockLimitWarps)
    SAME("bound by registers", o.blocks_by_regs, r.blockLimitRegs)
    SAME("bound by shared memory", o.blocks_by_smem, r.blockLimitSharedMem)
    SAME("bound by blocks", o.blocks_by_blocks, r.blockLimitBlocks)
    SAME("limiters", o.limiters, theirs)
    SAME("registers per block", o.regs_per_block, r.allocatedRegistersPerBlock)
    SAME("shared memory per block", o.smem_per_block, r.allocatedSharedMemPerBlock)
    SAME("fast path", cutune_occupancy_blocks(a, l), r.activeBlocksPerMultiprocessor)
#undef SAME
}

static void compare_best_block(const cutune_arch *a, const cudaOccDeviceProp *p,
                               const cutune_block_resources *l)
{
    cudaOccFuncAttributes f = attrs_of(l);
    cudaOccDeviceState s = state_of(l);
    int grid = 0, block = 0;
    cudaOccError err = cudaOccMaxPotentialOccupancyBlockSize(&grid, &block, p, &f, &s, NULL,
                                                             l->dynamic_smem);
    int threads, blocks, min_grid;
    int st = cutune_occupancy_best_block(a, l, NULL, NULL, &threads, &blocks, &min_grid);
    if ((err != CUDA_OCC_SUCCESS) != (st != CUTUNE_OK)) {
        report(a, l, "best block status", st, err);
        return;
    }
    if (!st && (threads != block || min_grid != grid)) {
        report(a, l, "best block size", threads, block);
        report(a, l, "best block min grid", min_grid, grid);
    }
}

/* every architecture cutune knows, against cuda_occupancy.h */
static void test_every_arch(void)
{
    int archs = 0;
    for (const char *const *name = cutune_arch_names(); *name; name++, archs++) {
        cutune_arch a;
        CHECK_INT(cutune_arch_find(*name, &a), CUTUNE_OK);
        a.sm_count = 132; /* any count: only min_grid uses it */
        cudaOccDeviceProp p = props_of(&a);
        cutune_rng rng;
        cutune_rng_seed(&rng, 0x0cc0 + (uint64_t)archs);
        for (int i = 0; i < LAUNCHES_PER_ARCH; i++) {
            cutune_block_resources l = random_launch(&rng);
            compare_one(&a, &p, &l);
        }
        for (int i = 0; i < BEST_BLOCK_PER_ARCH; i++) {
            cutune_block_resources l = random_launch(&rng);
            compare_best_block(&a, &p, &l);
        }
    }
    printf("%d architectures x %d launches (+ %d best-block searches each): %d mismatches\n",
           archs, LAUNCHES_PER_ARCH, BEST_BLOCK_PER_ARCH, mismatches);
    CHECK(archs >= 20);
    CHECK(mismatches == 0);
}

TEST_LIST(TEST_CASE(test_every_arch));

int main(int argc, char **argv) { return TEST_RUN(argc, argv, NULL, NULL); }
