/* test_pool.c — the pinned pool's logic over a malloc-backed fake backend: size classes,
 * slabs, stream-ordered reuse, the cap and trimming, registration, failing backends, bad
 * calls, the pipeline's answers to bad calls, and a stress test (2 to 16 threads x 1M allocate/give back pairs, run under
 * ThreadSanitizer too) in which no buffer is ever held by two threads and none is lost. */
#include "check.h"
#include "cutune.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- the fake backend ---- */

typedef struct fake {
    _Atomic long allocs, frees, registers;
    _Atomic size_t outstanding; /* bytes allocated and not freed */
    int fail_next;              /* the next allocation fails */
} fake;

static int fake_alloc(void *user, size_t bytes, void **out)
{
    fake *f = user;
    if (f->fail_next) {
        f->fail_next = 0;
        return CUTUNE_ENOMEM;
    }
    if (!(*out = aligned_alloc(4096, bytes)))
        return CUTUNE_ENOMEM;
    atomic_fetch_add(&f->allocs, 1);
    atomic_fetch_add(&f->outstanding, bytes);
    return CUTUNE_OK;
}

static void fake_free(void *user, void *ptr, size_t bytes)
{
    fake *f = user;
    free(ptr);
    atomic_fetch_add(&f->frees, 1);
    atomic_fetch_sub(&f->outstanding, bytes);
}

/* An event is an atomic int: nonzero once "completed". */
static int fake_event_done(void *user, void *event)
{
    (void)user;
    return atomic_load((_Atomic int *)event) != 0;
}

static int fake_register(void *user, void *ptr, size_t bytes)
{
    (void)ptr, (void)bytes;
    atomic_fetch_add(&((fake *)user)->registers, 1);
    return CUTUNE_OK;
}

static void fake_unregister(void *user, void *ptr)
{
    (void)ptr;
    atomic_fetch_sub(&((fake *)user)->registers, 1);
}

static cutune_pool *new_pool(fake *f, size_t cap, size_t slab, int with_register)
{
    cutune_pool_backend be = {fake_alloc, fake_free, fake_event_done,
                              with_register ? fake_register : NULL,
                              with_register ? fake_unregister : NULL, f};
    cutune_pool_options o = {.max_pinned = cap, .slab_bytes = slab, .backend = &be};
    cutune_pool *p = NULL;
    CHECK_INT(cutune_pool_new(&p, &o), CUTUNE_OK);
    return p;
}

/* ------------------------------------------------------------------ the basics ---- */

static void test_classes_and_slabs(void)
{
    fake f = {0};
    cutune_pool *p = new_pool(&f, 0, 64 << 10, 0);
    cutune_buffer b[20];
    CHECK_INT(cutune_pool_alloc(p, 1, &b[0]), CUTUNE_OK);
    CHECK(b[0].bytes == 4096 && b[0].ptr);
    CHECK_INT(cutune_pool_alloc(p, 5000, &b[1]), CUTUNE_OK);
    CHECK(b[1].bytes == 8192);
    for (int k = 2; k < 17; k++) /* the rest of the first 4 KiB slab: 15 more */
        CHECK_INT(cutune_pool_alloc(p, 4096, &b[k]), CUTUNE_OK);
    cutune_pool_stats s;
    cutune_pool_get_stats(p, &s);
    CHECK_INT(s.misses, 2); /* one slab of 4 KiB buffers, one of 8 KiB */
    CHECK_INT(s.hits, 15);
    CHECK_INT(s.pinned_bytes, 128 << 10);
    CHECK_INT(s.in_use_bytes, 16 * 4096 + 8192);
    for (int a = 0; a < 17; a++) /* all distinct, all 4 KiB aligned, none overlapping */
        for (int c = a + 1; c < 17; c++)
            CHECK(b[a].ptr != b[c].ptr);
    memset(b[16].ptr, 0xab, b[16].bytes); /* usable to its last byte (ASan watches) */
    CHECK_INT(cutune_pool_alloc(p, 4096, &b[17]), CUTUNE_OK); /* a new slab */
    CHECK_INT(f.allocs, 3);
    /* a buffer of its own, above the slab size */
    CHECK_INT(cutune_pool_alloc(p, 100 << 10, &b[18]), CUTUNE_OK);
    CHECK(b[18].bytes == 128 << 10);
    for (int k = 0; k < 19; k++)
        CHECK_INT(cutune_pool_release(p, &b[k], NULL), CUTUNE_OK);
    cutune_pool_get_stats(p, &s);
    CHECK_INT(s.in_use_bytes, 0);
    CHECK_INT(s.high_water, 64 * 3 * 1024 + (128 << 10));
    /* bad calls */
    cutune_buffer x;
    CHECK_INT(cutune_pool_alloc(p, 0, &x), CUTUNE_EINVAL);
    CHECK(x.ptr == NULL);
    CHECK_INT(cutune_pool_alloc(p, (size_t)1 << 41, &x), CUTUNE_ETOOBIG);
    CHECK_HAS(cutune_last_error(), "1 byte to 1 TiB");
    CHECK_INT(cutune_pool_release(p, &b[3], NULL), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "given back twice");
    cutune_buffer foreign = {&x, 4096, 2};
    CHECK_INT(cutune_pool_release(p, &foreign, NULL), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "not one of this pool's");
    foreign.id = 999999;
    CHECK_INT(cutune_pool_release(p, &foreign, NULL), CUTUNE_EINVAL);
    CHECK_INT(cutune_pool_alloc(NULL, 1, &x), CUTUNE_EINVAL);
    CHECK_INT(cutune_pool_release(p, NULL, NULL), CUTUNE_EINVAL);
    cutune_pool_free(p);
    CHECK_INT(f.outstanding, 0);
    CHECK_INT(f.frees, f.allocs);
    cutune_pool_free(NULL);
    /* bad options */
    cutune_pool_options o = {.slab_bytes = 3000};
    CHECK_INT(cutune_pool_new(&p, &o), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "power of two");
    cutune_pool_backend half = {fake_alloc, NULL, NULL, NULL, NULL, &f};
    o = (cutune_pool_options){.backend = &half};
    CHECK_INT(cutune_pool_new(&p, &o), CUTUNE_EINVAL);
}

/* A buffer given back with a pending event is not handed out until the event completes. */
static void test_stream_ordered_reuse(void)
{
    fake f = {0};
    cutune_pool *p = new_pool(&f, 0, 64 << 10, 0);
    cutune_buffer a, b, c;
    _Atomic int event = 0;
    CHECK_INT(cutune_pool_alloc(p, 64 << 10, &a), CUTUNE_OK); /* a buffer of its own */
    CHECK_INT(cutune_pool_release(p, &a, (void *)&event), CUTUNE_OK);
    CHECK_INT(cutune_pool_alloc(p, 64 << 10, &b), CUTUNE_OK);
    CHECK(b.ptr != a.ptr); /* still pending: a new one */
    cutune_pool_stats s;
    cutune_pool_get_stats(p, &s);
    CHECK(s.waits >= 1 && s.misses == 2);
    atomic_store(&event, 1);
    CHECK_INT(cutune_pool_alloc(p, 64 << 10, &c), CUTUNE_OK);
    CHECK(c.ptr == a.ptr); /* completed: reused */
    CHECK_INT(cutune_pool_release(p, &c, (void *)&event), CUTUNE_OK);
    CHECK_INT(cutune_pool_release(p, &c, NULL), CUTUNE_EINVAL); /* pending is not in use */
    CHECK_INT(cutune_pool_release(p, &b, NULL), CUTUNE_OK);
    cutune_pool_free(p);
    CHECK_INT(f.outstanding, 0);
}

/* The cap: growth past it trims idle memory first, then fails with a clear message. */
static void test_cap_and_trim(void)
{
    fake f = {0};
    cutune_pool *p = new_pool(&f, 256 << 10, 64 << 10, 0);
    cutune_buffer b[80];
    int n = 0;
    while (n < 80 && cutune_pool_alloc(p, 4096, &b[n]) == CUTUNE_OK)
        n++;
    CHECK_INT(n, 64); /* four slabs of 16 */
    CHECK_HAS(cutune_last_error(), "cap of 262144 pinned bytes is reached");
    for (int k = 0; k < n; k++)
        CHECK_INT(cutune_pool_release(p, &b[k], NULL), CUTUNE_OK);
    /* 128 KiB of its own: two idle slabs give way */
    cutune_buffer big;
    CHECK_INT(cutune_pool_alloc(p, 128 << 10, &big), CUTUNE_OK);
    cutune_pool_stats s;
    cutune_pool_get_stats(p, &s);
    CHECK(s.pinned_bytes <= 256 << 10);
    CHECK_INT(cutune_pool_release(p, &big, NULL), CUTUNE_OK);
    /* a slab with a buffer in use stays; everything idle goes */
    cutune_buffer held;
    CHECK_INT(cutune_pool_alloc(p, 4096, &held), CUTUNE_OK);
    CHECK_INT(cutune_pool_trim(p, 0), CUTUNE_OK);
    cutune_pool_get_stats(p, &s);
    CHECK_INT(s.pinned_bytes, 64 << 10);
    CHECK_INT(f.outstanding, 64 << 10);
    memset(held.ptr, 1, held.bytes);
    CHECK_INT(cutune_pool_release(p, &held, NULL), CUTUNE_OK);
    CHECK_INT(cutune_pool_trim(p, 0), CUTUNE_OK);
    cutune_pool_get_stats(p, &s);
    CHECK_INT(s.pinned_bytes, 0);
    CHECK_INT(f.outstanding, 0);
    /* and it grows again from nothing, reusing the descriptors */
    CHECK_INT(cutune_pool_alloc(p, 4096, &held), CUTUNE_OK);
    CHECK_INT(cutune_pool_release(p, &held, NULL), CUTUNE_OK);
    CHECK_INT(cutune_pool_trim(NULL, 0), CUTUNE_EINVAL);
    cutune_pool_free(p);
    CHECK_INT(f.outstanding, 0);
}

static void test_register_and_failures(void)
{
    fake f = {0};
    cutune_pool *p = new_pool(&f, 1 << 20, 0, 1);
    static char mine[1 << 16], more[1 << 20];
    CHECK_INT(cutune_pool_register(p, mine, sizeof mine), CUTUNE_OK);
    CHECK_INT(cutune_pool_register(p, mine, sizeof mine), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "registered already");
    CHECK_INT(cutune_pool_register(p, more, sizeof more), CUTUNE_ENOMEM); /* past the cap */
    CHECK_INT(cutune_pool_register(p, NULL, 10), CUTUNE_EINVAL);
    cutune_pool_stats s;
    cutune_pool_get_stats(p, &s);
    CHECK(s.registered_bytes == sizeof mine && s.pinned_bytes == sizeof mine);
    CHECK_INT(cutune_pool_unregister(p, more), CUTUNE_ENOTFOUND);
    CHECK_INT(cutune_pool_unregister(p, mine), CUTUNE_OK);
    CHECK_INT(f.registers, 0);
    /* the backend fails: the error comes back, and the pool still works */
    cutune_buffer b;
    f.fail_next = 1;
    CHECK_INT(cutune_pool_alloc(p, 4096, &b), CUTUNE_ENOMEM);
    CHECK_INT(cutune_pool_alloc(p, 4096, &b), CUTUNE_OK);
    CHECK_INT(cutune_pool_release(p, &b, NULL), CUTUNE_OK);
    CHECK_INT(cutune_pool_register(p, mine, sizeof mine), CUTUNE_OK); /* freed with the pool */
    cutune_pool_free(p);
    CHECK_INT(f.registers, 0);
    p = new_pool(&f, 0, 0, 0);
    CHECK_INT(cutune_pool_register(p, mine, sizeof mine), CUTUNE_ENOTSUP);
    cutune_pool_free(p);
}

/* ------------------------------------------------------------------- the stress ---- */

#define PAIRS 1000000
#define MAX_THREADS 16
#define MAX_IDS (1 << 20)

static _Atomic int owner[MAX_IDS]; /* by buffer id: the thread holding it, or 0 */
static _Atomic int completed = 1;  /* an event that has completed */

typedef struct stress {
    cutune_pool *pool;
    int who;
    long twice, failed;
} stress;

static void *hammer(void *arg)
{
    stress *t = arg;
    cutune_buffer held[4];
    int n = 0;
    uint64_t x = 0x9E3779B97F4A7C15u * (uint64_t)t->who;
    for (long k = 0; k < PAIRS; k++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        /* up to four held at once; every pair is one allocation and one giving back */
        cutune_buffer b;
        if (cutune_pool_alloc(t->pool, 4096, &b) != CUTUNE_OK || b.id >= MAX_IDS) {
            t->failed++;
            continue;
        }
        int none = 0;
        if (!atomic_compare_exchange_strong(&owner[b.id], &none, t->who))
            t->twice++; /* somebody else holds it */
        *(volatile int *)b.ptr = t->who; /* the memory is there and ours */
        held[n++] = b;
        if (n == 4 || (x & 1)) {
            cutune_buffer r = held[(x >> 8) % (uint64_t)n];
            for (int j = 0; j < n; j++)
                if (held[j].id == r.id) {
                    held[j] = held[--n];
                    break;
                }
            if (*(volatile int *)r.ptr != t->who)
                t->twice++; /* written by another while we held it */
            atomic_store(&owner[r.id], 0);
            /* one in four goes back behind an event (already completed) */
            if (cutune_pool_release(t->pool, &r, (x & 6) == 6 ? (void *)&completed : NULL))
                t->failed++;
        }
    }
    while (n) {
        cutune_buffer r = held[--n];
        atomic_store(&owner[r.id], 0);
        if (cutune_pool_release(t->pool, &r, NULL))
            t->failed++;
    }
    return NULL;
}

static void test_stress(void)
{
    static const int counts[] = {2, 4, 8, 16};
    for (int c = 0; c < 4; c++) {
        fake f = {0};
        cutune_pool *p = new_pool(&f, 0, 64 << 10, 0);
        pthread_t th[MAX_THREADS];
        stress st[MAX_THREADS];
        for (int k = 0; k < counts[c]; k++) {
            st[k] = (stress){p, k + 1, 0, 0};
            pthread_create(&th[k], NULL, hammer, &st[k]);
        }
        long twice = 0, failed = 0;
        for (int k = 0; k < counts[c]; k++) {
            pthread_join(th[k], NULL);
            twice += st[k].twice;
            failed += st[k].failed;
        }
        CHECK_INT(twice, 0);
        CHECK_INT(failed, 0);
        /* none lost: every buffer the pool made comes back out of it, then it must grow */
        cutune_pool_stats s;
        cutune_pool_get_stats(p, &s);
        CHECK_INT(s.in_use_bytes, 0);
        long buffers = (long)(s.pinned_bytes / 4096), got = 0;
        cutune_buffer *all = malloc((size_t)buffers * sizeof *all);
        uint64_t misses = s.misses;
        for (long k = 0; k < buffers; k++)
            got += cutune_pool_alloc(p, 4096, &all[k]) == CUTUNE_OK;
        cutune_pool_get_stats(p, &s);
        CHECK_INT(got, buffers);
        CHECK_INT(s.misses, misses); /* all of them were idle in the pool */
        printf("%2d threads x %d pairs: %ld buffers in %llu slabs, none twice, none lost\n",
               counts[c], PAIRS, buffers, (unsigned long long)misses);
        for (long k = 0; k < buffers; k++)
            cutune_pool_release(p, &all[k], NULL);
        free(all);
        cutune_pool_free(p);
        CHECK_INT(f.outstanding, 0);
    }
}

/* The pipeline's answers to bad calls, which need no GPU. */
static char sink[64];
static int copy_chunk(void *user, void *stream, const void *in, void *out, size_t offset,
                      size_t bytes)
{
    (void)user, (void)stream, (void)in, (void)out, (void)offset, (void)bytes;
    return CUTUNE_OK;
}

static void test_pipeline_arguments(void)
{
    char in[64] = {0};
    CHECK_INT(cutune_pipeline_run(in, sink, 64, NULL, NULL, NULL, NULL), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "no compute callback");
    CHECK_INT(cutune_pipeline_run(NULL, sink, 64, copy_chunk, NULL, NULL, NULL), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "NULL input buffer");
    cutune_pipeline_options o = {.depth = 17};
    CHECK_INT(cutune_pipeline_run(in, sink, 64, copy_chunk, NULL, &o, NULL), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "depth 17");
    o = (cutune_pipeline_options){.copy_threads = 99};
    CHECK_INT(cutune_pipeline_run(in, sink, 64, copy_chunk, NULL, &o, NULL), CUTUNE_EINVAL);
    CHECK_HAS(cutune_last_error(), "99 copy threads");
    cutune_pipeline_stats st = {.chunks = 9};
    CHECK_INT(cutune_pipeline_run(in, sink, 0, copy_chunk, NULL, NULL, &st), CUTUNE_OK);
    CHECK_INT(st.chunks, 0); /* nothing to do, and no GPU needed for it */
    int count, rc = cutune_pipeline_run(in, sink, 64, copy_chunk, NULL, NULL, NULL);
    if (cutune_device_count(&count) != CUTUNE_OK)
        CHECK(rc == CUTUNE_ENODEVICE || rc == CUTUNE_ENOTSUP);
}

TEST_LIST(TEST_CASE(test_classes_and_slabs) TEST_CASE(test_stream_ordered_reuse)
          TEST_CASE(test_cap_and_trim) TEST_CASE(test_register_and_failures)
          TEST_CASE(test_pipeline_arguments) TEST_CASE(test_stress));

int main(int argc, char **argv) { return TEST_RUN(argc, argv, NULL, NULL); }
