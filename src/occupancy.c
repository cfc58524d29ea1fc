/* occupancy.c — the SM resources of each architecture (a table), and the exact number of
 * blocks of a launch an SM holds: the rules of the CUDA runtime's calculator, restated.
 * A block gets warp slots, registers (per warp, in allocation units) and shared memory (per
 * block, in allocation units, plus a reserve); the scarcest of them, or the SM's cap on
 * blocks, sets the count. Also what limits it and what would lift it. */
#include "internal.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

/* ------------------------------------------------------------------------- the tables ---- */

/* Shared memory sizes an SM can be split to (KiB), per family. */
#define FIXED {0}, 0
#define VOLTA {0, 8, 16, 32, 64, 96}, 6
#define TURING {32, 64}, 2
#define GA100 {0, 8, 16, 32, 64, 100, 132, 164}, 8
#define GA10X {0, 8, 16, 32, 64, 100}, 6
#define HOPPER {0, 8, 16, 32, 64, 100, 132, 164, 196, 228}, 10

/* Every architecture has 32-thread warps, 1024 threads per block at most, 64 Ki registers
 * per SM in units of 256 per warp, and 48 KiB of shared memory per block without opt-in.
 * Sources: the CUDA Programming Guide's technical specifications per compute capability,
 * and the toolkit's cuda_occupancy.h for allocation units, partitions and carve-out steps. */
#define ROW(nm, maj, min, thr_sm, blk_sm, regs_blk, regs_thr, parts, smem_sm_kib, optin_kib, \
            reserved, unit, carve)                                                        \
    {.name = nm, .cc_major = maj, .cc_minor = min, .warp_size = 32,                         \
     .max_threads_per_block = 1024, .max_threads_per_sm = thr_sm, .max_blocks_per_sm = blk_sm, \
     .regs_per_sm = 65536, .regs_per_block = regs_blk, .max_regs_per_thread = regs_thr,     \
     .reg_alloc_unit = 256, .sub_partitions = parts, .smem_per_sm = (smem_sm_kib) * 1024,  \
     .smem_per_block = 48 * 1024, .smem_per_block_optin = (optin_kib) * 1024,              \
     .smem_reserved_per_block = reserved, .smem_alloc_unit = unit, .carveout_kib = carve}

static const cutune_arch arch_table[] = {
    /*  name      cc      threads blocks regs/blk regs/thr parts smem/SM optin rsv unit */
    ROW("sm_50", 5, 0, 2048, 32, 65536, 255, 4, 64, 48, 0, 256, FIXED),
    ROW("sm_52", 5, 2, 2048, 32, 65536, 255, 4, 96, 48, 0, 256, FIXED),
    ROW("sm_53", 5, 3, 2048, 32, 32768, 255, 4, 64, 48, 0, 256, FIXED),
    ROW("sm_60", 6, 0, 2048, 32, 65536, 255, 2, 64, 48, 0, 256, FIXED),
    ROW("sm_61", 6, 1, 2048, 32, 65536, 255, 4, 96, 48, 0, 256, FIXED),
    ROW("sm_62", 6, 2, 2048, 32, 32768, 255, 4, 64, 48, 0, 256, FIXED),
    ROW("sm_70", 7, 0, 2048, 32, 65536, 256, 4, 96, 96, 0, 256, VOLTA),
    ROW("sm_72", 7, 2, 2048, 32, 65536, 256, 4, 96, 96, 0, 256, VOLTA),
    ROW("sm_75", 7, 5, 1024, 16, 65536, 256, 4, 64, 64, 0, 256, TURING),
    ROW("sm_80", 8, 0, 2048, 32, 65536, 256, 4, 164, 163, 1024, 128, GA100),
    ROW("sm_86", 8, 6, 1536, 16, 65536, 256, 4, 100, 99, 1024, 128, GA10X),
    ROW("sm_87", 8, 7, 1536, 16, 65536, 256, 4, 164, 163, 1024, 128, GA100),
    ROW("sm_89", 8, 9, 1536, 24, 65536, 256, 4, 100, 99, 1024, 128, GA10X),
    ROW("sm_90", 9, 0, 2048, 32, 65536, 256, 4, 228, 227, 1024, 128, HOPPER),
    ROW("sm_100", 10, 0, 2048, 32, 65536, 256, 4, 228, 227, 1024, 128, HOPPER),
    ROW("sm_101", 10, 1, 1536, 24, 65536, 256, 4, 228, 227, 1024, 128, HOPPER),
    ROW("sm_103", 10, 3, 2048, 32, 65536, 256, 4, 228, 227, 1024, 128, HOPPER),
    ROW("sm_110", 11, 0, 1536, 24, 65536, 256, 4, 228, 227, 1024, 128, HOPPER),
    ROW("sm_120", 12, 0, 1536, 24, 65536, 256, 4, 100, 99, 1024, 128, GA10X),
    ROW("sm_121", 12, 1, 1536, 24, 65536, 256, 4, 100, 99, 1024, 128, GA10X),
};
#define NUM_ARCHS (sizeof arch_table / sizeof *arch_table)

const char *const *cutune_arch_names(void)
{
    static const char *names[NUM_ARCHS + 1];
    if (!names[0]) /* the same constants each time: a benign race between threads */
        for (size_t i = 0; i < NUM_ARCHS; i++)
            names[i] = arch_table[i].name;
    return names;
}

static const cutune_arch *arch_by_cc(int major, int minor)
{
    for (size_t i = 0; i < NUM_ARCHS; i++)
        if (arch_table[i].cc_major == major && arch_table[i].cc_minor == minor)
            return &arch_table[i];
    return NULL;
}

static int unknown_arch(int status, const char *what)
{
    char known[256] = "";
    size_t len = 0;
    for (size_t i = 0; i < NUM_ARCHS && len < sizeof known; i++)
        len += (size_t)snprintf(known + len, sizeof known - len, "%s%s", i ? " " : "",
                                arch_table[i].name);
    return ct_fail(status, "%s; cutune knows %s", what, known);
}

/* "sm_90", "sm_90a", "compute_90", "90", "9.0" -> 9, 0 */
static int parse_arch(const char *s, int *major, int *minor)
{
    if (strncmp(s, "sm_", 3) == 0)
        s += 3;
    else if (strncmp(s, "compute_", 8) == 0)
        s += 8;
    int digits = 0, value = 0;
    const char *p = s;
    for (; *p >= '0' && *p <= '9' && digits < 4; p++, digits++)
        value = value * 10 + (*p - '0');
    if (*p == '.' && digits >= 1 && digits <= 2 && p[1] >= '0' && p[1] <= '9' && !p[2]) {
        *major = value;
        *minor = p[1] - '0';
        return 1;
    }
    if (digits < 2 || digits > 3 || (*p && !((*p == 'a' || *p == 'f') && !p[1])))
        return 0;
    *major = value / 10;
    *minor = value % 10;
    return 1;
}

int cutune_arch_find(const char *name, cutune_arch *arch)
{
    if (!name || !arch)
        return ct_fail(CUTUNE_EINVAL, "cutune_arch_find: NULL argument");
    int major, minor;
    const cutune_arch *a = NULL;
    if (parse_arch(name, &major, &minor))
        a = arch_by_cc(major, minor);
    if (!a) {
        char what[96];
        snprintf(what, sizeof what, "unknown architecture '%.40s'", name);
        return unknown_arch(CUTUNE_ENOTFOUND, what);
    }
    *arch = *a;
    return CUTUNE_OK;
}

int cutune_arch_from_device(const cutune_device_info *info, cutune_arch *arch)
{
    if (!info || !arch)
        return ct_fail(CUTUNE_EINVAL, "cutune_arch_from_device: NULL argument");
    const cutune_arch *a = arch_by_cc(info->cc_major, info->cc_minor);
    if (!a) {
        char what[128];
        snprintf(what, sizeof what, "%.64s has compute capability %d.%d", info->name,
                 info->cc_major, info->cc_minor);
        return unknown_arch(CUTUNE_ENOTSUP, what);
    }
    *arch = *a;
    /* the device's own word wins where it gives one */
#define TAKE(field, from) \
    if ((from) > 0)       \
        arch->field = (from);
    TAKE(sm_count, info->sm_count)
    TAKE(warp_size, info->warp_size)
    TAKE(max_threads_per_block, info->max_threads_per_block)
    TAKE(max_threads_per_sm, info->max_threads_per_sm)
    TAKE(max_blocks_per_sm, info->max_blocks_per_sm)
    TAKE(regs_per_sm, info->regs_per_sm)
    TAKE(regs_per_block, info->regs_per_block)
    TAKE(smem_per_sm, info->smem_per_sm)
    TAKE(smem_per_block, info->smem_per_block)
    TAKE(smem_per_block_optin, info->smem_per_block_optin)
#undef TAKE
    if (info->smem_reserved_per_block >= 0)
        arch->smem_reserved_per_block = info->smem_reserved_per_block;
    return CUTUNE_OK;
}

/* ------------------------------------------------------------------------ the counting ---- */

/* An architecture made ready for counting: checked, a few derived numbers worked out, and
 * divisions by its power-of-two units turned into shifts and masks. Cheap enough to do on
 * every call. */
typedef struct prep {
    const cutune_arch *a;
    int warp_shift;           /* log2 warp size */
    long reg_unit, smem_unit; /* allocation units (powers of two) */
    long max_warps;           /* warps per SM */
    long parts;               /* register file partitions */
    long limit_default;       /* per-block shared memory limit without opt-in, reserve in */
    long limit_optin;         /* with opt-in */
    long whole_sm;            /* the SM's shared memory with no carve-out preference */
    int gp100;                /* two partitions, checked also against four */
} prep;

/* The smallest configurable shared memory size that holds `bytes`; 0 when none does.
 * (Counted without branches: the sizes below it are skipped by their number.) */
static inline long smem_config_for(const cutune_arch *a, long bytes)
{
    int n = a->num_carveouts, below = 0;
    for (int i = 0; i < n; i++)
        below += ((long)a->carveout_kib[i] << 10) < bytes;
    return below < n ? (long)a->carveout_kib[below] << 10 : 0;
}

/* ct_fail for invalid input, in a form the compiler sees is never success */
#define einval(...) (ct_fail(CUTUNE_EINVAL, __VA_ARGS__), CUTUNE_EINVAL)

static inline int is_pow2(long x) { return (x > 0) & ((x & (x - 1)) == 0); }

static int prepare(prep *p, const cutune_arch *a, const char *fn)
{
    if (!a)
        return einval("%s: NULL argument", fn);
    /* (an OR of ints is negative when any of them is) */
    if (!(is_pow2(a->warp_size) & is_pow2(a->reg_alloc_unit) & is_pow2(a->sub_partitions) &
          is_pow2(a->smem_alloc_unit)) ||
        (a->max_threads_per_block | a->max_threads_per_sm | a->max_blocks_per_sm |
         a->regs_per_sm | a->regs_per_block | a->max_regs_per_thread | a->smem_per_sm |
         a->smem_per_block | a->smem_per_block_optin | a->smem_reserved_per_block) < 0 ||
        (unsigned)a->num_carveouts > 12)
        return einval("%s: architecture '%.16s' has a negative limit, or a warp size, "
                      "allocation unit or partition count that is not a power of two",
                      fn, a->name);
    p->a = a;
    p->warp_shift = __builtin_ctz((unsigned)a->warp_size);
    p->reg_unit = a->reg_alloc_unit;
    p->smem_unit = a->smem_alloc_unit;
    p->max_warps = a->max_threads_per_sm >> p->warp_shift;
    p->parts = a->sub_partitions;
    long reserve = a->cc_major >= 8 ? a->smem_reserved_per_block : 0;
    p->limit_default = a->smem_per_block + reserve;
    /* opting in to more than the default per-block size exists from sm_70 on */
    p->limit_optin = (a->cc_major >= 7 ? a->smem_per_block_optin : a->smem_per_block) + reserve;
    p->whole_sm = a->smem_per_sm;
    if (a->num_carveouts) {
        long largest = (long)a->carveout_kib[a->num_carveouts - 1] << 10;
        if (largest != a->smem_per_sm && !(p->whole_sm = smem_config_for(a, a->smem_per_sm)))
            return einval("%s: architecture '%.16s': %d bytes of shared memory per SM is more "
                          "than its largest configurable size, %ld",
                          fn, a->name, a->smem_per_sm, largest);
    }
    p->gp100 = a->cc_major == 6 && a->cc_minor == 0 && a->sub_partitions != 4;
    return CUTUNE_OK;
}

static int check_launch(const cutune_block_resources *l, const char *fn)
{
    if (!l)
        return einval("%s: NULL argument", fn);
    if (l->threads < 1)
        return einval("%s: %d threads per block; a block needs at least 1", fn, l->threads);
    if (l->regs < 0)
        return einval("%s: %d registers per thread is negative", fn, l->regs);
    if (l->carveout < -1 || l->carveout > 100)
        return einval("%s: carve-out %d%% is outside 0..100 (or -1 for no preference)", fn,
                      l->carveout);
    return CUTUNE_OK;
}

static inline long round_up(long x, long unit) { return (x + unit - 1) & ~(unit - 1); }

/* Blocks per SM by register file, the warps spread over `parts` partitions; 0 when one block
 * does not fit. */
static inline int blocks_by_regs(const prep *p, int regs, long warps, long parts,
                                 long *per_block)
{
    long per_warp = round_up((long)regs << p->warp_shift, p->reg_unit);
    *per_block = per_warp * warps;
    /* the hardware checks a block as if its warps spread over every partition */
    if (regs > p->a->max_regs_per_thread || *per_block > p->a->regs_per_block ||
        per_warp * ((warps + parts - 1) & ~(parts - 1)) > p->a->regs_per_block)
        return 0;
    if (per_warp == 0)
        return INT_MAX;
    uint32_t per_part = (uint32_t)(p->a->regs_per_sm >> __builtin_ctzl((unsigned long)parts)) /
                        (uint32_t)per_warp;
    return (int)(per_part * (uint32_t)parts / (uint32_t)warps);
}

typedef struct counts {
    int warps, regs, smem, blocks; /* blocks per SM each allows */
    long regs_per_block, smem_per_block, smem_per_sm;
    long smem_block_limit; /* the most shared memory one block may have */
    int why;               /* which check made a bound 0 (below), for the message */
} counts;

enum { WHY_NONE, WHY_THREADS, WHY_REGS_THREAD, WHY_REGS_BLOCK, WHY_DYNAMIC, WHY_SMEM_BLOCK };

static inline void count(const prep *p, const cutune_block_resources *l, counts *c)
{
    const cutune_arch *a = p->a;
    long warps = (((long)l->threads - 1) >> p->warp_shift) + 1;
    c->why = WHY_NONE;

    c->warps = l->threads > a->max_threads_per_block
                   ? 0
                   : (int)((uint32_t)p->max_warps / (uint32_t)warps);
    if (!c->warps)
        c->why = WHY_THREADS;

    c->regs = blocks_by_regs(p, l->regs, warps, p->parts, &c->regs_per_block);
    /* GP100 has two partitions, but a kernel must also fit the four of its sm_6x siblings */
    if (c->regs && p->gp100) {
        long ignored;
        if (!blocks_by_regs(p, l->regs, warps, 4, &ignored))
            c->regs = 0;
    }
    if (!c->regs && !c->why)
        c->why = l->regs > a->max_regs_per_thread ? WHY_REGS_THREAD : WHY_REGS_BLOCK;

    c->blocks = a->max_blocks_per_sm;

    /* shared memory; sizes beyond any SM's are cut to a bound that still fails */
    const size_t huge = (size_t)1 << 40;
    long stat = (long)(l->static_smem < huge ? l->static_smem : huge);
    long dyn = (long)(l->dynamic_smem < huge ? l->dynamic_smem : huge);
    long max_dyn = l->max_dynamic_smem
                       ? (long)(l->max_dynamic_smem < huge ? l->max_dynamic_smem : huge)
                       : dyn;
    long fixed = stat + a->smem_reserved_per_block;
    c->smem_per_block = round_up(fixed + dyn, p->smem_unit);
    /* a kernel opts in to more than the default through its dynamic limit */
    c->smem_block_limit = fixed + max_dyn > a->smem_per_block ? p->limit_optin
                                                              : p->limit_default;
    c->smem_per_sm = 0;
    if (dyn > max_dyn || c->smem_per_block > c->smem_block_limit) {
        c->smem = 0;
        if (!c->why)
            c->why = dyn > max_dyn ? WHY_DYNAMIC : WHY_SMEM_BLOCK;
        return;
    }
    long sm = a->smem_per_sm;
    if (a->num_carveouts) {
        sm = l->carveout < 0 ? p->whole_sm
                             : smem_config_for(a, (long)l->carveout * a->smem_per_sm / 100);
        /* a preference too small for one block gives way to the size that holds it */
        if (sm < c->smem_per_block)
            sm = smem_config_for(a, c->smem_per_block);
    }
    c->smem_per_sm = sm;
    c->smem = !c->smem_per_block ? INT_MAX
              : sm <= (long)UINT32_MAX ? (int)((uint32_t)sm / (uint32_t)c->smem_per_block)
                                       : (int)(sm / c->smem_per_block);
}

static inline int min4(int a, int b, int c, int d)
{
    int m = a < b ? a : b;
    m = m < c ? m : c;
    return m < d ? m : d;
}

int cutune_occupancy_blocks(const cutune_arch *arch, const cutune_block_resources *launch)
{
    prep p;
    int st = prepare(&p, arch, "cutune_occupancy_blocks");
    if (st)
        return -st;
    if ((st = check_launch(launch, "cutune_occupancy_blocks")))
        return -st;
    counts c;
    count(&p, launch, &c);
    return min4(c.warps, c.regs, c.smem, c.blocks);
}

int cutune_occupancy_blocks_many(const cutune_arch *arch, const cutune_block_resources *launches,
                                 size_t n, int *blocks)
{
    prep p;
    int st = prepare(&p, arch, "cutune_occupancy_blocks_many");
    if (st)
        return st;
    if (n && (!launches || !blocks))
        return ct_fail(CUTUNE_EINVAL, "cutune_occupancy_blocks_many: NULL argument");
    for (size_t i = 0; i < n; i++) {
        const cutune_block_resources *l = &launches[i];
        if ((l->threads < 1) | (l->regs < 0) | (l->carveout < -1) | (l->carveout > 100)) {
            blocks[i] = -CUTUNE_EINVAL;
            continue;
        }
        counts c;
        count(&p, l, &c);
        blocks[i] = min4(c.warps, c.regs, c.smem, c.blocks);
    }
    return CUTUNE_OK;
}

static void explain_zero(const cutune_arch *a, const cutune_block_resources *l, const counts *c,
                         char *buf, size_t size)
{
    switch (c->why) {
    case WHY_THREADS:
        snprintf(buf, size, "%d threads per block exceed the limit of %d", l->threads,
                 a->max_threads_per_block);
        break;
    case WHY_REGS_THREAD:
        snprintf(buf, size, "%d registers per thread exceed the limit of %d", l->regs,
                 a->max_regs_per_thread);
        break;
    case WHY_REGS_BLOCK:
        snprintf(buf, size,
                 "%d threads x %d registers need %ld registers per block; an SM gives a block "
                 "at most %d",
                 l->threads, l->regs, c->regs_per_block, a->regs_per_block);
        break;
    case WHY_DYNAMIC:
        snprintf(buf, size, "%zu bytes of dynamic shared memory exceed the kernel's limit of %zu",
                 l->dynamic_smem, l->max_dynamic_smem);
        break;
    default:
        snprintf(buf, size,
                 "%ld bytes of shared memory per block (%d of them reserved by the driver) "
                 "exceed the limit of %ld",
                 c->smem_per_block, a->smem_reserved_per_block, c->smem_block_limit);
        break;
    }
}

int cutune_occupancy_compute(const cutune_arch *arch, const cutune_block_resources *launch,
                             cutune_occupancy *occ)
{
    if (!occ)
        return ct_fail(CUTUNE_EINVAL, "cutune_occupancy_compute: NULL argument");
    memset(occ, 0, sizeof *occ);
    prep p;
    int st = prepare(&p, arch, "cutune_occupancy_compute");
    if (st)
        return st;
    if ((st = check_launch(launch, "cutune_occupancy_compute")))
        return st;
    counts c;
    count(&p, launch, &c);
    int blocks = min4(c.warps, c.regs, c.smem, c.blocks);
    long warps = (((long)launch->threads - 1) >> p.warp_shift) + 1;
    occ->blocks_per_sm = blocks;
    occ->max_warps_per_sm = (int)p.max_warps;
    occ->warps_per_sm = (int)(blocks * warps);
    occ->occupancy = (double)occ->warps_per_sm / occ->max_warps_per_sm;
    occ->limiters = (c.warps == blocks ? CUTUNE_LIMIT_WARPS : 0u) |
                    (c.regs == blocks ? CUTUNE_LIMIT_REGISTERS : 0u) |
                    (c.smem == blocks ? CUTUNE_LIMIT_SHARED_MEMORY : 0u) |
                    (c.blocks == blocks ? CUTUNE_LIMIT_BLOCKS : 0u);
    occ->blocks_by_warps = c.warps;
    occ->blocks_by_regs = c.regs;
    occ->blocks_by_smem = c.smem;
    occ->blocks_by_blocks = c.blocks;
    occ->regs_per_block = (int)(c.regs_per_block < INT_MAX ? c.regs_per_block : INT_MAX);
    occ->smem_per_block = (size_t)c.smem_per_block;
    occ->smem_per_sm = (size_t)c.smem_per_sm;
    if (!blocks)
        explain_zero(arch, launch, &c, occ->reason, sizeof occ->reason);
    return CUTUNE_OK;
}

/* ---------------------------------------------------------------- best block, advice ---- */

int cutune_occupancy_best_block(const cutune_arch *arch, const cutune_block_resources *launch,
                                size_t (*smem_for_threads)(int threads, void *user), void *user,
                                int *threads, int *blocks_per_sm, int *min_grid)
{
    if (!threads || !blocks_per_sm)
        return ct_fail(CUTUNE_EINVAL, "cutune_occupancy_best_block: NULL argument");
    *threads = *blocks_per_sm = 0;
    if (min_grid)
        *min_grid = 0;
    if (!launch)
        return ct_fail(CUTUNE_EINVAL, "cutune_occupancy_best_block: NULL argument");
    cutune_block_resources l = *launch;
    l.threads = 1;
    prep p;
    int st = prepare(&p, arch, "cutune_occupancy_best_block");
    if (st)
        return st;
    if ((st = check_launch(&l, "cutune_occupancy_best_block")))
        return st;
    /* every block size from the largest down in warp steps; the first best one wins */
    int top = (int)round_up(arch->max_threads_per_block, arch->warp_size);
    long best = 0;
    for (int t = top; t > 0; t -= arch->warp_size) {
        l.threads = t < arch->max_threads_per_block ? t : arch->max_threads_per_block;
        if (smem_for_threads)
            l.dynamic_smem = smem_for_threads(l.threads, user);
        counts c;
        count(&p, &l, &c);
        int blocks = min4(c.warps, c.regs, c.smem, c.blocks);
        if ((long)blocks * l.threads > best) {
            best = (long)blocks * l.threads;
            *threads = l.threads;
            *blocks_per_sm = blocks;
        }
        if (best == arch->max_threads_per_sm)
            break;
    }
    if (min_grid)
        *min_grid = *blocks_per_sm * arch->sm_count;
    return CUTUNE_OK;
}

/* The most of a resource (searched downwards from `from` in `step`s) at which the count
 * `bound` of that resource reaches `target`; -1 when none does. */
static long most_for(const prep *p, cutune_block_resources l, int which, long from, long step,
                     int target)
{
    for (long v = from; v >= 0; v -= step) {
        if (which == CUTUNE_LIMIT_REGISTERS)
            l.regs = (int)v;
        else {
            l.static_smem = 0;
            l.dynamic_smem = (size_t)v;
            l.max_dynamic_smem = 0;
        }
        counts c;
        count(p, &l, &c);
        if ((which == CUTUNE_LIMIT_REGISTERS ? c.regs : c.smem) >= target)
            return v;
    }
    return -1;
}

static size_t append(char *buf, size_t size, size_t len, const char *fmt, ...) CT_PRINTF(4, 5);
static size_t append(char *buf, size_t size, size_t len, const char *fmt, ...)
{
    if (len >= size)
        return len;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + len, size - len, fmt, ap);
    va_end(ap);
    return n < 0 ? len : len + (size_t)n;
}

static const char *limiter_names(unsigned limiters, char *buf, size_t size)
{
    static const char *const names[] = {"warp slots (block size)", "registers",
                                        "shared memory", "blocks per SM"};
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < 4; i++)
        if (limiters & (1u << i))
            len = append(buf, size, len, "%s%s", len ? " and " : "", names[i]);
    return buf;
}

int cutune_occupancy_advise(const cutune_arch *arch, const cutune_block_resources *launch,
                            cutune_occupancy_advice *adv)
{
    if (!adv)
        return ct_fail(CUTUNE_EINVAL, "cutune_occupancy_advise: NULL argument");
    memset(adv, 0, sizeof *adv);
    adv->regs_for_more = -1;
    adv->smem_for_more = -1;
    cutune_occupancy occ;
    int st = cutune_occupancy_compute(arch, launch, &occ);
    if (st)
        return st;
    st = cutune_occupancy_best_block(arch, launch, NULL, NULL, &adv->best_threads,
                                     &adv->best_blocks, NULL);
    if (st)
        return st;
    long best_warps = adv->best_threads ? (adv->best_threads - 1) / arch->warp_size + 1 : 0;
    adv->best_occupancy = (double)(adv->best_blocks * best_warps) / occ.max_warps_per_sm;
    prep p;
    prepare(&p, arch, "cutune_occupancy_advise"); /* cannot fail: compute checked it */

    char *t = adv->text;
    size_t size = sizeof adv->text, len = 0;
    char names[96];
    if (occ.blocks_per_sm == 0) {
        len = append(t, size, len, "no block fits: %s.", occ.reason);
    } else {
        len = append(t, size, len, "%d block%s of %d threads per SM, %d of %d warps (%.0f%%); "
                     "limited by %s.", occ.blocks_per_sm, occ.blocks_per_sm == 1 ? "" : "s",
                     launch->threads, occ.warps_per_sm, occ.max_warps_per_sm,
                     100 * occ.occupancy, limiter_names(occ.limiters, names, sizeof names));
    }
    /* one more block raises occupancy only while warp slots and the block cap allow it */
    int more = occ.blocks_per_sm + 1;
    if (more <= occ.blocks_by_warps && more <= occ.blocks_by_blocks) {
        adv->more_blocks = more;
        if (occ.blocks_by_regs < more && launch->regs > 0) {
            int from = launch->regs <= arch->max_regs_per_thread ? launch->regs - 1
                                                                 : arch->max_regs_per_thread;
            adv->regs_for_more =
                (int)most_for(&p, *launch, CUTUNE_LIMIT_REGISTERS, from, 1, more);
            if (adv->regs_for_more >= 0)
                len = append(t, size, len, " At %d registers per thread, %d block%s fit.",
                             adv->regs_for_more, more, more == 1 ? "" : "s");
        }
        size_t total = launch->static_smem + launch->dynamic_smem;
        if (total < launch->static_smem)
            total = SIZE_MAX;
        long unit = arch->smem_alloc_unit;
        if (occ.blocks_by_smem < more && total > 0) {
            /* from the last size that allocates less than now, or from the most an SM has */
            long from = total > (size_t)arch->smem_per_sm ? arch->smem_per_sm
                                                          : round_up((long)total, unit) - unit;
            adv->smem_for_more = most_for(&p, *launch, CUTUNE_LIMIT_SHARED_MEMORY,
                                          from, unit, more);
            if (adv->smem_for_more >= 0)
                len = append(t, size, len, " With at most %ld bytes of shared memory per "
                             "block, %d block%s fit.", adv->smem_for_more, more,
                             more == 1 ? "" : "s");
        }
    }
    if (adv->best_threads && adv->best_occupancy > occ.occupancy)
        len = append(t, size, len, " Blocks of %d threads reach %.0f%% (%d per SM).",
                     adv->best_threads, 100 * adv->best_occupancy, adv->best_blocks);
    else if (occ.blocks_per_sm && occ.occupancy >= 1.0)
        len = append(t, size, len, " That is the most an SM holds.");
    (void)len;
    return CUTUNE_OK;
}
