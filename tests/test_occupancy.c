/* test_occupancy.c — the occupancy calculator: the H100's own answers (recorded from the CUDA
 * runtime in tests/data/h100-occupancy.txt), architecture names, bad input, launches over
 * the limits, and the advice (each suggested change really gives one more block, and no
 * smaller change would). The rules themselves are checked against the toolkit's calculator
 * in test_occupancy_diff. */
#include "check.h"
#include "cutune.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GOLDEN CUTUNE_SOURCE_DIR "/tests/data/h100-occupancy.txt"

static cutune_arch sm(const char *name)
{
    cutune_arch a;
    memset(&a, 0, sizeof a);
    CHECK_INT(cutune_arch_find(name, &a), CUTUNE_OK);
    return a;
}

static int blocks(const cutune_arch *a, int threads, int regs, size_t dynamic)
{
    cutune_block_resources l = {
        .threads = threads, .regs = regs, .dynamic_smem = dynamic, .carveout = -1};
    return cutune_occupancy_blocks(a, &l);
}

/* The limits the probe read from the H100, as cutune_device_query would report them. */
static void probe_device(FILE *f, cutune_device_info *d)
{
    memset(d, 0, sizeof *d);
    char line[4096];
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "device %*s %*s %*s %*s cc %d.%d SMs %d", &d->cc_major, &d->cc_minor,
                   &d->sm_count) == 3)
            snprintf(d->name, sizeof d->name, "NVIDIA H100 80GB HBM3");
        sscanf(line,
               "regsPerSM %d regsPerBlock %d smemPerSM %d smemPerBlock %d smemPerBlockOptin %d "
               "reservedSmemPerBlock %d",
               &d->regs_per_sm, &d->regs_per_block, &d->smem_per_sm, &d->smem_per_block,
               &d->smem_per_block_optin, &d->smem_reserved_per_block);
        sscanf(line, "maxThreadsPerSM %d maxThreadsPerBlock %d maxBlocksPerSM %d warpSize %d",
               &d->max_threads_per_sm, &d->max_threads_per_block, &d->max_blocks_per_sm,
               &d->warp_size);
    }
    rewind(f);
}

static void golden_h100(void)
{
    FILE *f = fopen(GOLDEN, "r");
    CHECK(f != NULL);
    if (!f)
        return;
    cutune_device_info dev;
    probe_device(f, &dev);
    cutune_arch table = sm("sm_90"), from_dev;
    CHECK_INT(cutune_arch_from_device(&dev, &from_dev), CUTUNE_OK);
    CHECK_INT(from_dev.sm_count, 132);
    /* the table's sm_90 is what the H100 reports */
    CHECK_INT(table.regs_per_sm, dev.regs_per_sm);
    CHECK_INT(table.regs_per_block, dev.regs_per_block);
    CHECK_INT(table.smem_per_sm, dev.smem_per_sm);
    CHECK_INT(table.smem_per_block, dev.smem_per_block);
    CHECK_INT(table.smem_per_block_optin, dev.smem_per_block_optin);
    CHECK_INT(table.smem_reserved_per_block, dev.smem_reserved_per_block);
    CHECK_INT(table.max_threads_per_sm, dev.max_threads_per_sm);
    CHECK_INT(table.max_threads_per_block, dev.max_threads_per_block);
    CHECK_INT(table.max_blocks_per_sm, dev.max_blocks_per_sm);
    CHECK_INT(table.warp_size, dev.warp_size);

    char line[4096];
    int answers = 0, wrong = 0, kernels = 0, best = 0, regs = 0, stat = 0;
    while (fgets(line, sizeof line, f)) {
        char kernel[64];
        int n;
        if (sscanf(line, "OCC %63s regs %d static_smem %d maxThreads %*d :%n", kernel, &regs,
                   &stat, &n) == 3) {
            kernels++;
            for (char *p = line + n;;) {
                int threads, dynamic, want, used;
                if (sscanf(p, " %d/%d=%d%n", &threads, &dynamic, &want, &used) != 3)
                    break;
                p += used;
                cutune_block_resources l = {
                    .threads = threads, .regs = regs, .static_smem = (size_t)stat,
                    .dynamic_smem = (size_t)dynamic, .carveout = -1};
                int got_table = cutune_occupancy_blocks(&table, &l);
                int got_dev = cutune_occupancy_blocks(&from_dev, &l);
                answers++;
                if (got_table != want || got_dev != want) {
                    wrong++;
                    fprintf(stderr, "%s regs %d: %d threads, %d bytes: runtime %d, cutune %d/%d\n",
                            kernel, regs, threads, dynamic, want, got_table, got_dev);
                }
            }
        }
        int grid, block;
        if (sscanf(line, "OCCPOT %63s minGrid %d block %d", kernel, &grid, &block) == 3) {
            /* the register count is the one of the OCC line before */
            int t, b, g;
            cutune_block_resources l = {.regs = regs, .carveout = -1};
            CHECK_INT(cutune_occupancy_best_block(&from_dev, &l, NULL, NULL, &t, &b, &g),
                      CUTUNE_OK);
            CHECK_INT(t, block);
            CHECK_INT(g, grid);
            best++;
        }
    }
    fclose(f);
    printf("H100 golden: %d runtime answers over %d kernels, %d wrong; %d best block sizes\n",
           answers, kernels, wrong, best);
    CHECK(answers >= 150);
    CHECK_INT(wrong, 0);
    CHECK_INT(best, kernels);
}

static void arch_names(void)
{
    static const char *const same[] = {"sm_90", "sm_90a", "compute_90", "90", "9.0"};
    for (size_t i = 0; i < sizeof same / sizeof *same; i++) {
        cutune_arch a = sm(same[i]);
        CHECK(strcmp(a.name, "sm_90") == 0);
    }
    CHECK(strcmp(sm("sm_121").name, "sm_121") == 0);
    CHECK(strcmp(sm("12.0").name, "sm_120") == 0);
    static const char *const unknown[] = {"sm_91", "sm_9", "", "sm_", "foo", "sm_900", "9.10",
                                          "sm_90x", "compute_", "-90", "sm_30", "sm_1000"};
    for (size_t i = 0; i < sizeof unknown / sizeof *unknown; i++) {
        cutune_arch a;
        CHECK_INT(cutune_arch_find(unknown[i], &a), CUTUNE_ENOTFOUND);
        CHECK_HAS(cutune_last_error(), "unknown architecture");
        CHECK_HAS(cutune_last_error(), "sm_50");
    }
    CHECK_INT(cutune_arch_find(NULL, NULL), CUTUNE_EINVAL);
    int n = 0;
    for (const char *const *p = cutune_arch_names(); *p; p++, n++) {
        cutune_arch a = sm(*p);
        CHECK(strcmp(a.name, *p) == 0);
        CHECK(a.num_carveouts == 0 || (long)a.carveout_kib[a.num_carveouts - 1] * 1024 ==
                                          a.smem_per_sm);
    }
    CHECK_INT(n, 20);

    cutune_device_info future = {.cc_major = 15, .cc_minor = 0};
    snprintf(future.name, sizeof future.name, "Some Future GPU");
    cutune_arch a;
    CHECK_INT(cutune_arch_from_device(&future, &a), CUTUNE_ENOTSUP);
    CHECK_HAS(cutune_last_error(), "compute capability 15.0");
}

static void bad_input(void)
{
    cutune_arch a = sm("sm_90");
    cutune_occupancy o;
    cutune_block_resources l = {.threads = 0, .regs = 32, .carveout = -1};
    CHECK_INT(cutune_occupancy_compute(&a, &l, &o), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "0 threads per block");
    CHECK_INT(cutune_occupancy_blocks(&a, &l), -CUTUNE_EINVAL);
    l.threads = -5;
    CHECK_INT(cutune_occupancy_compute(&a, &l, &o), CUTUNE_EINVAL);
    l = (cutune_block_resources){.threads = 128, .regs = -1, .carveout = -1};
    CHECK_INT(cutune_occupancy_compute(&a, &l, &o), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "-1 registers");
    l = (cutune_block_resources){.threads = 128, .regs = 32, .carveout = 101};
    CHECK_INT(cutune_occupancy_compute(&a, &l, &o), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "carve-out 101%");
    l.carveout = -2;
    CHECK_INT(cutune_occupancy_compute(&a, &l, &o), CUTUNE_EINVAL);
    l.carveout = -1;
    CHECK_INT(cutune_occupancy_compute(NULL, &l, &o), CUTUNE_EINVAL);
    CHECK_INT(cutune_occupancy_compute(&a, NULL, &o), CUTUNE_EINVAL);
    CHECK_INT(cutune_occupancy_compute(&a, &l, NULL), CUTUNE_EINVAL);
    cutune_occupancy_advice adv;
    CHECK_INT(cutune_occupancy_advise(&a, NULL, &adv), CUTUNE_EINVAL);
    int t, b;
    CHECK_INT(cutune_occupancy_best_block(&a, NULL, NULL, NULL, &t, &b, NULL), CUTUNE_EINVAL);
    CHECK_INT(cutune_occupancy_blocks_many(&a, NULL, 3, NULL), CUTUNE_EINVAL);

    /* architectures that would divide by zero or shift by nonsense */
    cutune_arch broken = a;
    broken.warp_size = 0;
    CHECK_INT(cutune_occupancy_compute(&broken, &l, &o), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "power of two");
    broken = a;
    broken.smem_alloc_unit = 96;
    CHECK_INT(cutune_occupancy_blocks(&broken, &l), -CUTUNE_EINVAL);
    broken = a;
    broken.regs_per_sm = -65536;
    CHECK_INT(cutune_occupancy_blocks(&broken, &l), -CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "negative limit");
    broken = a;
    broken.num_carveouts = 13;
    CHECK_INT(cutune_occupancy_blocks(&broken, &l), -CUTUNE_EINVAL);
    broken = a;
    broken.smem_per_sm = 300 * 1024; /* more than its largest carve-out */
    CHECK_INT(cutune_occupancy_blocks(&broken, &l), -CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "largest configurable size");
    /* an SM with nothing: no block, no crash */
    broken = a;
    broken.max_threads_per_sm = broken.max_blocks_per_sm = broken.regs_per_sm = 0;
    CHECK_INT(cutune_occupancy_blocks(&broken, &l), 0);
}

/* Over a limit: 0 blocks and a reason with the numbers. */
static void over_limits(void)
{
    cutune_arch a = sm("sm_90");
    struct {
        cutune_block_resources l;
        const char *reason;
    } cases[] = {
        {{.threads = 1025, .regs = 32, .carveout = -1}, "1025 threads per block exceed"},
        {{.threads = INT_MAX, .regs = 32, .carveout = -1}, "threads per block exceed"},
        {{.threads = 128, .regs = 257, .carveout = -1}, "257 registers per thread exceed"},
        {{.threads = 128, .regs = INT_MAX, .carveout = -1}, "registers per thread exceed"},
        {{.threads = 1024, .regs = 128, .carveout = -1}, "131072 registers per block"},
        {{.threads = 128, .regs = 32, .dynamic_smem = 232449, .carveout = -1},
         "exceed the limit of 233472"},
        {{.threads = 128, .regs = 32, .dynamic_smem = SIZE_MAX, .carveout = -1},
         "bytes of shared memory per block"},
        {{.threads = 128, .regs = 32, .static_smem = SIZE_MAX, .dynamic_smem = SIZE_MAX,
          .carveout = -1},
         "bytes of shared memory per block"},
        {{.threads = 128, .regs = 32, .dynamic_smem = 65536, .max_dynamic_smem = 49152,
          .carveout = -1},
         "65536 bytes of dynamic shared memory exceed the kernel's limit of 49152"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        cutune_occupancy o;
        CHECK_INT(cutune_occupancy_compute(&a, &cases[i].l, &o), CUTUNE_OK);
        CHECK_INT(o.blocks_per_sm, 0);
        CHECK_INT(o.warps_per_sm, 0);
        CHECK_HAS(o.reason, cases[i].reason);
        CHECK_INT(cutune_occupancy_blocks(&a, &cases[i].l), 0);
        cutune_occupancy_advice adv;
        CHECK_INT(cutune_occupancy_advise(&a, &cases[i].l, &adv), CUTUNE_OK);
        CHECK_HAS(adv.text, "no block fits");
    }
    /* just inside: the opt-in maximum, and 255 registers at 256 threads */
    CHECK_INT(blocks(&a, 128, 32, 232448), 1);
    CHECK_INT(blocks(&a, 256, 255, 0), 1);
    /* sm_5x/sm_6x have no opt-in: 48 KiB is the most per block */
    cutune_arch p = sm("sm_61");
    CHECK_INT(blocks(&p, 128, 32, 49152), 2);
    CHECK_INT(blocks(&p, 128, 32, 49153), 0);
}

/* The example of the issue, and the advice checked by brute force on random launches. */
static void advice(void)
{
    cutune_arch a = sm("sm_90");
    cutune_block_resources l = {.threads = 256, .regs = 63, .dynamic_smem = 8192, .carveout = -1};
    cutune_occupancy o;
    cutune_occupancy_advice adv;
    CHECK_INT(cutune_occupancy_compute(&a, &l, &o), CUTUNE_OK);
    CHECK_INT(o.blocks_per_sm, 4);
    CHECK_INT(o.limiters, CUTUNE_LIMIT_REGISTERS);
    CHECK_INT(cutune_occupancy_advise(&a, &l, &adv), CUTUNE_OK);
    CHECK_INT(adv.more_blocks, 5);
    CHECK_INT(adv.regs_for_more, 48);
    CHECK_INT(adv.smem_for_more, -1);
    CHECK_HAS(adv.text, "limited by registers");
    CHECK_HAS(adv.text, "At 48 registers per thread, 5 blocks fit");

    cutune_rng rng;
    cutune_rng_seed(&rng, 42);
    static const char *const archs[] = {"sm_61", "sm_75", "sm_80", "sm_86", "sm_90", "sm_120"};
    int checked_regs = 0, checked_smem = 0;
    for (int i = 0; i < 6000; i++) {
        a = sm(archs[i % 6]);
        l = (cutune_block_resources){
            .threads = 32 * (1 + (int)cutune_rng_below(&rng, 32)),
            .regs = 8 + (int)cutune_rng_below(&rng, 240),
            .static_smem = cutune_rng_below(&rng, 2) ? 0 : 1024 * cutune_rng_below(&rng, 40),
            .dynamic_smem = 256 * cutune_rng_below(&rng, 200),
            .carveout = cutune_rng_below(&rng, 2) ? -1 : (int)cutune_rng_below(&rng, 101)};
        if (cutune_occupancy_compute(&a, &l, &o) || cutune_occupancy_advise(&a, &l, &adv)) {
            CHECK(0);
            continue;
        }
        cutune_occupancy o2;
        if (adv.regs_for_more >= 0) {
            cutune_block_resources m = l;
            m.regs = adv.regs_for_more;
            cutune_occupancy_compute(&a, &m, &o2);
            CHECK(o2.blocks_by_regs >= adv.more_blocks);
            m.regs = adv.regs_for_more + 1; /* one more register and it no longer fits */
            cutune_occupancy_compute(&a, &m, &o2);
            CHECK(o2.blocks_by_regs < adv.more_blocks);
            checked_regs++;
        }
        if (adv.smem_for_more >= 0) {
            cutune_block_resources m = l;
            m.static_smem = 0;
            m.dynamic_smem = (size_t)adv.smem_for_more;
            cutune_occupancy_compute(&a, &m, &o2);
            CHECK(o2.blocks_by_smem >= adv.more_blocks);
            m.dynamic_smem += (size_t)a.smem_alloc_unit;
            cutune_occupancy_compute(&a, &m, &o2);
            CHECK(o2.blocks_by_smem < adv.more_blocks);
            checked_smem++;
        }
        /* the best block size: the most threads per SM, the largest block among equals */
        int best_t = 0;
        long best = 0;
        for (int t = 1; t <= 1024; t++) {
            cutune_block_resources m = l;
            m.threads = t;
            long threads = (long)cutune_occupancy_blocks(&a, &m) * t;
            if (threads >= best && threads > 0) {
                best = threads;
                best_t = t;
            }
        }
        /* (cudaOccupancyMaxPotentialBlockSize tries warp multiples only) */
        if (best_t % 32 == 0)
            CHECK_INT(adv.best_threads, best_t);
        CHECK(adv.best_blocks * adv.best_threads <= best);
    }
    printf("advice: %d register and %d shared memory suggestions checked\n", checked_regs,
           checked_smem);
    CHECK(checked_regs > 500);
    CHECK(checked_smem > 500);
}

static size_t smem_per_thread(int threads, void *user)
{
    return (size_t)threads * *(size_t *)user;
}

static void best_block_variable_smem(void)
{
    cutune_arch a = sm("sm_90");
    a.sm_count = 132;
    size_t per_thread = 128; /* bytes of dynamic shared memory per thread */
    cutune_block_resources l = {.regs = 32, .carveout = -1};
    int t, b, g;
    CHECK_INT(cutune_occupancy_best_block(&a, &l, smem_per_thread, &per_thread, &t, &b, &g),
              CUTUNE_OK);
    /* by hand: 1792 threads per SM is the most (1024 threads: 1 block; 512: 3 blocks), reached
     * by 448 threads (57344 + 1024 reserved bytes, 4 blocks in 228 KiB) and by 896 (2
     * blocks); the runtime picks the larger block */
    CHECK_INT(t, 896);
    CHECK_INT(b, 2);
    CHECK_INT(g, 2 * 132);
    l.threads = t;
    l.dynamic_smem = (size_t)t * per_thread;
    CHECK_INT(cutune_occupancy_blocks(&a, &l), b);
}

static void many_matches_one(void)
{
    cutune_arch a = sm("sm_86");
    enum { N = 1000 };
    cutune_block_resources ls[N];
    int got[N];
    cutune_rng rng;
    cutune_rng_seed(&rng, 9);
    for (int i = 0; i < N; i++)
        ls[i] = (cutune_block_resources){.threads = (int)cutune_rng_below(&rng, 1100) - 10,
                                         .regs = (int)cutune_rng_below(&rng, 270) - 5,
                                         .dynamic_smem = cutune_rng_below(&rng, 120000),
                                         .carveout = (int)cutune_rng_below(&rng, 104) - 2};
    CHECK_INT(cutune_occupancy_blocks_many(&a, ls, N, got), CUTUNE_OK);
    int invalid = 0;
    for (int i = 0; i < N; i++) {
        CHECK_INT(got[i], cutune_occupancy_blocks(&a, &ls[i]));
        invalid += got[i] < 0;
    }
    CHECK(invalid > 0);
}

TEST_LIST(TEST_CASE(golden_h100) TEST_CASE(arch_names) TEST_CASE(bad_input)
          TEST_CASE(over_limits) TEST_CASE(advice) TEST_CASE(best_block_variable_smem)
          TEST_CASE(many_matches_one));

int main(int argc, char **argv) { return TEST_RUN(argc, argv, NULL, NULL); }
