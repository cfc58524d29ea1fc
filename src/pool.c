/* pool.c — the pinned host memory pool. Every buffer has a descriptor in a table that only
 * grows (chunks are never freed before the pool), so a descriptor's index names it for good.
 * Idle buffers of a size class sit on a Treiber stack whose head packs a tag with the index
 * of its top: a pop that raced with a pop and a push of the same buffer sees the tag changed
 * and tries again (no ABA). Buffers given back with a pending event wait on a second stack
 * per class until an allocation finds the event completed. Growing, trimming and
 * registering take a mutex; handing out and taking back do not. */
#include "internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#ifdef CUTUNE_HAVE_CUDA
#include <cuda_runtime_api.h>
#endif

#define MIN_SHIFT 12                       /* the smallest class: 4 KiB */
#define MAX_SHIFT 40                       /* the largest: 1 TiB */
#define CLASSES (MAX_SHIFT - MIN_SHIFT + 1)
#define CHUNK_SHIFT 12                     /* descriptors per chunk: 4096 */
#define MAX_CHUNKS 256                     /* at most 1M buffers */
#define NONE UINT32_MAX

enum { GONE, IDLE, IN_USE, PENDING }; /* a descriptor's state; GONE: its memory was freed */

typedef struct desc {
    void *ptr;
    uint32_t cls;
    uint32_t slab;          /* its slab, or NONE: a buffer of its own */
    _Atomic uint32_t next;  /* on a stack: the index + 1 of the one below, 0 at the bottom */
    _Atomic int state;
    void *event;            /* PENDING: what must complete first */
    /* times handed out: written only by the thread that holds the buffer (so no locked
     * instruction), summed when statistics are asked for */
    _Atomic uint64_t uses;
} desc;

typedef struct slab {
    void *base;             /* NULL once given back */
    size_t bytes;
    uint32_t count;         /* its buffers */
    uint32_t taken;         /* while trimming: how many of them the trim holds */
} slab;

/* (tag << 32) | (index + 1); 0 in the low half: empty */
typedef struct stack {
    _Atomic uint64_t head;
} stack;

struct cutune_pool {
    cutune_pool_backend be;
    size_t max_pinned, slab_bytes;
    _Atomic(desc *) chunk[MAX_CHUNKS];
    _Atomic uint32_t ndesc;
    stack idle[CLASSES], pending[CLASSES];
    stack spare;             /* descriptors of freed memory, to reuse */
    pthread_mutex_t grow;    /* growing, trimming, registering */
    slab *slabs;
    size_t nslabs, slabs_cap;
    struct region { void *ptr; size_t bytes; } *regions;
    size_t nregions, regions_cap;
    _Atomic uint64_t misses, waits; /* hits: the descriptors' uses less the misses */
    _Atomic size_t pinned, high_water, registered;
};

static desc *at(cutune_pool *p, uint32_t i)
{
    desc *c = atomic_load_explicit(&p->chunk[i >> CHUNK_SHIFT], memory_order_acquire);
    return &c[i & ((1u << CHUNK_SHIFT) - 1)];
}

static void push(cutune_pool *p, stack *s, uint32_t i)
{
    desc *d = at(p, i);
    uint64_t old = atomic_load_explicit(&s->head, memory_order_relaxed), new;
    do {
        atomic_store_explicit(&d->next, (uint32_t)old, memory_order_relaxed);
        new = ((old >> 32) + 1) << 32 | (uint64_t)(i + 1);
    } while (!atomic_compare_exchange_weak_explicit(&s->head, &old, new, memory_order_release,
                                                    memory_order_relaxed));
}

static uint32_t pop(cutune_pool *p, stack *s)
{
    uint64_t old = atomic_load_explicit(&s->head, memory_order_acquire), new;
    do {
        uint32_t top = (uint32_t)old;
        if (!top)
            return NONE;
        /* another thread may pop and push this one meanwhile: the tag then fails the CAS */
        uint32_t below = atomic_load_explicit(&at(p, top - 1)->next, memory_order_relaxed);
        new = ((old >> 32) + 1) << 32 | below;
    } while (!atomic_compare_exchange_weak_explicit(&s->head, &old, new, memory_order_acquire,
                                                    memory_order_acquire));
    return (uint32_t)old - 1;
}

/* Takes the whole stack; returns its top (index + 1, 0: empty), the rest linked by next. */
static uint32_t pop_all(stack *s)
{
    uint64_t old = atomic_load_explicit(&s->head, memory_order_acquire);
    while (!atomic_compare_exchange_weak_explicit(&s->head, &old, ((old >> 32) + 1) << 32,
                                                  memory_order_acquire, memory_order_acquire))
        ;
    return (uint32_t)old;
}

static size_t class_bytes(uint32_t cls)
{
    return (size_t)1 << (cls + MIN_SHIFT);
}

static void add_pinned(cutune_pool *p, size_t bytes)
{
    size_t now = atomic_fetch_add(&p->pinned, bytes) + bytes;
    size_t high = atomic_load(&p->high_water);
    while (now > high && !atomic_compare_exchange_weak(&p->high_water, &high, now))
        ;
}

/* ---------------------------------------------------------------- CUDA's backend ---- */

#ifdef CUTUNE_HAVE_CUDA
static int cuda_alloc(void *user, size_t bytes, void **out)
{
    (void)user;
    cudaError_t e = cudaHostAlloc(out, bytes, cudaHostAllocPortable);
    if (e != cudaSuccess) {
        cudaGetLastError();
        return ct_fail(e == cudaErrorMemoryAllocation ? CUTUNE_ENOMEM : CUTUNE_ECUDA,
                       "cudaHostAlloc of %zu bytes: %s", bytes, cudaGetErrorString(e));
    }
    return CUTUNE_OK;
}

static void cuda_free(void *user, void *ptr, size_t bytes)
{
    (void)user, (void)bytes;
    cudaFreeHost(ptr);
}

static int cuda_event_done(void *user, void *event)
{
    (void)user;
    cudaError_t e = cudaEventQuery((cudaEvent_t)event);
    if (e == cudaErrorNotReady) {
        cudaGetLastError(); /* not ready is no error */
        return 0;
    }
    return e == cudaSuccess ? 1 : -1;
}

static int cuda_register(void *user, void *ptr, size_t bytes)
{
    (void)user;
    cudaError_t e = cudaHostRegister(ptr, bytes, cudaHostRegisterPortable);
    if (e != cudaSuccess) {
        cudaGetLastError();
        return ct_fail(CUTUNE_ECUDA, "cudaHostRegister of %zu bytes: %s", bytes,
                       cudaGetErrorString(e));
    }
    return CUTUNE_OK;
}

static void cuda_unregister(void *user, void *ptr)
{
    (void)user;
    cudaHostUnregister(ptr);
}

static const cutune_pool_backend cuda_backend = {cuda_alloc, cuda_free, cuda_event_done,
                                                 cuda_register, cuda_unregister, NULL};
#else
static int no_cuda(void *user, size_t bytes, void **out)
{
    (void)user, (void)bytes, (void)out;
    return ct_fail(CUTUNE_ENOTSUP, "pinned memory: cutune was built without CUDA");
}
static void no_free(void *user, void *ptr, size_t bytes) { (void)user, (void)ptr, (void)bytes; }
static int no_event(void *user, void *event) { (void)user, (void)event; return 1; }
static const cutune_pool_backend cuda_backend = {no_cuda, no_free, no_event, NULL, NULL, NULL};
#endif

/* ------------------------------------------------------------------------ the pool ---- */

int cutune_pool_new(cutune_pool **out, const cutune_pool_options *options)
{
    if (!out)
        return ct_fail(CUTUNE_EINVAL, "cutune_pool_new: out is NULL");
    *out = NULL;
    cutune_pool_options o = options ? *options : (cutune_pool_options){0};
    size_t slab_bytes = o.slab_bytes ? o.slab_bytes : (size_t)2 << 20;
    if (slab_bytes < ((size_t)64 << 10) || slab_bytes > ((size_t)1 << 30) ||
        (slab_bytes & (slab_bytes - 1)))
        return ct_fail(CUTUNE_EINVAL, "the pool's slab size must be a power of two from 64 KiB "
                       "to 1 GiB, not %zu bytes", slab_bytes);
    const cutune_pool_backend *be = o.backend ? o.backend : &cuda_backend;
    if (!be->alloc || !be->free || !be->event_done)
        return ct_fail(CUTUNE_EINVAL, "the pool's backend needs alloc, free and event_done");
    cutune_pool *p = calloc(1, sizeof *p);
    if (!p)
        return ct_fail(CUTUNE_ENOMEM, "out of memory");
    p->be = *be;
    p->max_pinned = o.max_pinned;
    p->slab_bytes = slab_bytes;
    pthread_mutex_init(&p->grow, NULL);
    *out = p;
    return CUTUNE_OK;
}

void cutune_pool_free(cutune_pool *p)
{
    if (!p)
        return;
    uint32_t n = atomic_load(&p->ndesc);
    for (uint32_t i = 0; i < n; i++) {
        desc *d = at(p, i);
        if (d->slab == NONE && atomic_load(&d->state) != GONE)
            p->be.free(p->be.user, d->ptr, class_bytes(d->cls));
    }
    for (size_t k = 0; k < p->nslabs; k++)
        if (p->slabs[k].base)
            p->be.free(p->be.user, p->slabs[k].base, p->slabs[k].bytes);
    for (size_t k = 0; k < p->nregions; k++)
        if (p->be.unregister_host)
            p->be.unregister_host(p->be.user, p->regions[k].ptr);
    for (int c = 0; c < MAX_CHUNKS; c++)
        free(atomic_load(&p->chunk[c]));
    free(p->slabs);
    free(p->regions);
    pthread_mutex_destroy(&p->grow);
    free(p);
}

/* Under the grow lock: a descriptor for new memory (a spare one, or a new one). */
static int new_desc(cutune_pool *p, uint32_t *out)
{
    uint32_t i = pop(p, &p->spare);
    if (i != NONE) {
        *out = i;
        return CUTUNE_OK;
    }
    i = atomic_load_explicit(&p->ndesc, memory_order_relaxed);
    if ((i >> CHUNK_SHIFT) >= MAX_CHUNKS)
        return ct_fail(CUTUNE_ETOOBIG, "the pool holds %u buffers, its most", i);
    if (!(i & ((1u << CHUNK_SHIFT) - 1))) {
        desc *c = calloc((size_t)1 << CHUNK_SHIFT, sizeof *c);
        if (!c)
            return ct_fail(CUTUNE_ENOMEM, "out of memory for the pool's descriptors");
        atomic_store_explicit(&p->chunk[i >> CHUNK_SHIFT], c, memory_order_release);
    }
    atomic_store_explicit(&p->ndesc, i + 1, memory_order_release);
    *out = i;
    return CUTUNE_OK;
}

static int trim_locked(cutune_pool *p, size_t keep);

/* Under the grow lock: pinned memory for class `cls`; one of its buffers in *out (IN_USE),
 * the rest of a slab idle. */
static int grow_locked(cutune_pool *p, uint32_t cls, uint32_t *out)
{
    size_t size = class_bytes(cls), bytes = size < p->slab_bytes ? p->slab_bytes : size;
    if (p->max_pinned && atomic_load(&p->pinned) + bytes > p->max_pinned)
        trim_locked(p, p->max_pinned > bytes ? p->max_pinned - bytes : 0);
    /* near the cap, a smaller slab */
    while (p->max_pinned && bytes > size && atomic_load(&p->pinned) + bytes > p->max_pinned)
        bytes /= 2;
    if (p->max_pinned && atomic_load(&p->pinned) + bytes > p->max_pinned)
        return ct_fail(CUTUNE_ENOMEM, "the pool's cap of %zu pinned bytes is reached (%zu "
                       "pinned; %zu more asked)", p->max_pinned, atomic_load(&p->pinned),
                       bytes);
    size_t record = p->nslabs; /* a slab's record: one given back, or a new one */
    for (size_t k = 0; size < p->slab_bytes && k < p->nslabs; k++)
        if (!p->slabs[k].base) {
            record = k;
            break;
        }
    if (size < p->slab_bytes && record == p->nslabs && p->nslabs == p->slabs_cap) {
        size_t cap = p->slabs_cap ? 2 * p->slabs_cap : 16;
        slab *more = realloc(p->slabs, cap * sizeof *more);
        if (!more)
            return ct_fail(CUTUNE_ENOMEM, "out of memory for the pool's slabs");
        p->slabs = more;
        p->slabs_cap = cap;
    }
    void *mem;
    int st = p->be.alloc(p->be.user, bytes, &mem);
    if (st)
        return st;
    uint32_t count = (uint32_t)(bytes / size), first = NONE, described = 0;
    for (uint32_t k = 0; k < count && !st; k++) {
        uint32_t i = NONE;
        if ((st = new_desc(p, &i)))
            break;
        described++;
        desc *d = at(p, i);
        d->ptr = (char *)mem + (size_t)k * size;
        d->cls = cls;
        d->slab = size < p->slab_bytes ? (uint32_t)record : NONE;
        d->event = NULL;
        if (k == 0) {
            first = i;
            atomic_store(&d->state, IN_USE);
        } else {
            atomic_store(&d->state, IDLE);
            push(p, &p->idle[cls], i);
        }
    }
    if (st && first == NONE) { /* nothing handed out yet: the memory goes back */
        p->be.free(p->be.user, mem, bytes);
        return st;
    }
    /* (out of descriptors part way, the rest of a slab stays unused until it goes back) */
    if (size < p->slab_bytes) {
        p->slabs[record] = (slab){mem, bytes, described, 0};
        p->nslabs += record == p->nslabs;
    }
    add_pinned(p, bytes);
    *out = first;
    return CUTUNE_OK;
}

/* A buffer of class cls given back behind an event that has completed, in *out (IN_USE),
 * or NONE. Pending buffers are taken one at a time (so that others see the rest), those
 * still pending set aside and put back at the end. */
static void reclaim(cutune_pool *p, uint32_t cls, uint32_t *out)
{
    uint32_t aside = 0, i; /* index + 1 of the first set aside, linked through next */
    while ((i = pop(p, &p->pending[cls])) != NONE) {
        desc *d = at(p, i);
        if (p->be.event_done(p->be.user, d->event)) {
            d->event = NULL;
            atomic_store_explicit(&d->state, IN_USE, memory_order_relaxed);
            break;
        }
        atomic_fetch_add_explicit(&p->waits, 1, memory_order_relaxed);
        atomic_store_explicit(&d->next, aside, memory_order_relaxed);
        aside = i + 1;
    }
    *out = i;
    while (aside) {
        uint32_t j = aside - 1;
        aside = atomic_load_explicit(&at(p, j)->next, memory_order_relaxed);
        push(p, &p->pending[cls], j);
    }
}

int cutune_pool_alloc(cutune_pool *p, size_t bytes, cutune_buffer *out)
{
    if (!p || !out)
        return ct_fail(CUTUNE_EINVAL, "cutune_pool_alloc: NULL argument");
    memset(out, 0, sizeof *out);
    if (bytes == 0 || bytes > class_bytes(CLASSES - 1))
        return ct_fail(bytes ? CUTUNE_ETOOBIG : CUTUNE_EINVAL, "a pinned buffer of %zu bytes "
                       "(1 byte to 1 TiB, please)", bytes);
    uint32_t cls = bytes <= class_bytes(0) ? 0
                                            : (uint32_t)(64 - __builtin_clzll(bytes - 1)) -
                                                  MIN_SHIFT;
    uint32_t i = pop(p, &p->idle[cls]);
    if (i != NONE)
        atomic_store_explicit(&at(p, i)->state, IN_USE, memory_order_relaxed);
    else
        reclaim(p, cls, &i);
    if (i == NONE) {
        pthread_mutex_lock(&p->grow);
        /* another thread may have grown this class meanwhile */
        i = pop(p, &p->idle[cls]);
        if (i != NONE)
            atomic_store_explicit(&at(p, i)->state, IN_USE, memory_order_relaxed);
        else
            reclaim(p, cls, &i);
        int st = CUTUNE_OK, grew = i == NONE;
        if (grew)
            st = grow_locked(p, cls, &i);
        pthread_mutex_unlock(&p->grow);
        if (st)
            return st;
        if (grew)
            atomic_fetch_add_explicit(&p->misses, 1, memory_order_relaxed);
    }
    desc *d = at(p, i);
    atomic_store_explicit(&d->uses, atomic_load_explicit(&d->uses, memory_order_relaxed) + 1,
                          memory_order_relaxed);
    *out = (cutune_buffer){d->ptr, class_bytes(cls), i};
    return CUTUNE_OK;
}

int cutune_pool_release(cutune_pool *p, const cutune_buffer *b, void *event)
{
    if (!p || !b)
        return ct_fail(CUTUNE_EINVAL, "cutune_pool_release: NULL argument");
    if (b->id >= atomic_load_explicit(&p->ndesc, memory_order_acquire) ||
        at(p, b->id)->ptr != b->ptr)
        return ct_fail(CUTUNE_EINVAL, "cutune_pool_release: buffer %u (%p) is not one of this "
                       "pool's", b->id, b->ptr);
    desc *d = at(p, b->id);
    int was = IN_USE;
    if (!atomic_compare_exchange_strong_explicit(&d->state, &was, event ? PENDING : IDLE,
                                                 memory_order_acq_rel, memory_order_relaxed))
        return ct_fail(CUTUNE_EINVAL, "cutune_pool_release: buffer %u (%p) is not in use: "
                       "given back twice?", b->id, b->ptr);
    d->event = event;
    push(p, event ? &p->pending[d->cls] : &p->idle[d->cls], b->id);
    return CUTUNE_OK;
}

/* Under the grow lock: frees idle memory until at most `keep` bytes are pinned. Each class's
 * idle buffers are taken off their stack, so that no one else can reach them; buffers of
 * their own go back to the backend, and so do slabs all of whose buffers were taken; the
 * rest go back on the stack. */
static int trim_locked(cutune_pool *p, size_t keep)
{
    for (int cls = CLASSES - 1; cls >= 0 && atomic_load(&p->pinned) > keep; cls--) {
        uint32_t taken = pop_all(&p->idle[cls]);
        for (uint32_t t = taken; t; t = atomic_load(&at(p, t - 1)->next))
            if (at(p, t - 1)->slab != NONE)
                p->slabs[at(p, t - 1)->slab].taken++;
        while (taken) {
            uint32_t i = taken - 1;
            desc *d = at(p, i);
            taken = atomic_load(&d->next);
            slab *sl = d->slab == NONE ? NULL : &p->slabs[d->slab];
            int gone = 0;
            if (!sl && atomic_load(&p->pinned) > keep) {
                p->be.free(p->be.user, d->ptr, class_bytes(d->cls));
                atomic_fetch_sub(&p->pinned, class_bytes(d->cls));
                gone = 1;
            } else if (sl && !sl->base) {
                gone = 1; /* its slab went back with an earlier buffer of it */
            } else if (sl && sl->taken == sl->count && atomic_load(&p->pinned) > keep) {
                p->be.free(p->be.user, sl->base, sl->bytes);
                atomic_fetch_sub(&p->pinned, sl->bytes);
                sl->base = NULL;
                gone = 1;
            }
            if (gone) {
                atomic_store(&d->state, GONE);
                d->ptr = NULL;
                push(p, &p->spare, i);
            } else {
                push(p, &p->idle[cls], i);
            }
        }
        for (size_t k = 0; k < p->nslabs; k++)
            p->slabs[k].taken = 0;
    }
    return CUTUNE_OK;
}

int cutune_pool_trim(cutune_pool *p, size_t keep_bytes)
{
    if (!p)
        return ct_fail(CUTUNE_EINVAL, "cutune_pool_trim: NULL pool");
    pthread_mutex_lock(&p->grow);
    int st = trim_locked(p, keep_bytes);
    pthread_mutex_unlock(&p->grow);
    return st;
}

int cutune_pool_register(cutune_pool *p, void *ptr, size_t bytes)
{
    if (!p || !ptr || !bytes)
        return ct_fail(CUTUNE_EINVAL, "cutune_pool_register: NULL pointer or no bytes");
    if (!p->be.register_host)
        return ct_fail(CUTUNE_ENOTSUP, "the pool's backend cannot register memory");
    pthread_mutex_lock(&p->grow);
    int st = CUTUNE_OK;
    if (p->max_pinned && atomic_load(&p->pinned) + bytes > p->max_pinned)
        trim_locked(p, p->max_pinned > bytes ? p->max_pinned - bytes : 0);
    if (p->max_pinned && atomic_load(&p->pinned) + bytes > p->max_pinned)
        st = ct_fail(CUTUNE_ENOMEM, "registering %zu bytes would pass the pool's cap of %zu "
                     "pinned bytes", bytes, p->max_pinned);
    for (size_t k = 0; !st && k < p->nregions; k++)
        if (p->regions[k].ptr == ptr)
            st = ct_fail(CUTUNE_EINVAL, "%p is registered already", ptr);
    if (!st && p->nregions == p->regions_cap) {
        size_t cap = p->regions_cap ? 2 * p->regions_cap : 8;
        struct region *more = realloc(p->regions, cap * sizeof *more);
        if (!more)
            st = ct_fail(CUTUNE_ENOMEM, "out of memory");
        else {
            p->regions = more;
            p->regions_cap = cap;
        }
    }
    if (!st)
        st = p->be.register_host(p->be.user, ptr, bytes);
    if (!st) {
        p->regions[p->nregions++] = (struct region){ptr, bytes};
        add_pinned(p, bytes);
        atomic_fetch_add(&p->registered, bytes);
    }
    pthread_mutex_unlock(&p->grow);
    return st;
}

int cutune_pool_unregister(cutune_pool *p, void *ptr)
{
    if (!p || !ptr)
        return ct_fail(CUTUNE_EINVAL, "cutune_pool_unregister: NULL argument");
    pthread_mutex_lock(&p->grow);
    int st = ct_fail(CUTUNE_ENOTFOUND, "%p was not registered with this pool", ptr);
    for (size_t k = 0; k < p->nregions; k++)
        if (p->regions[k].ptr == ptr) {
            if (p->be.unregister_host)
                p->be.unregister_host(p->be.user, ptr);
            atomic_fetch_sub(&p->pinned, p->regions[k].bytes);
            atomic_fetch_sub(&p->registered, p->regions[k].bytes);
            p->regions[k] = p->regions[--p->nregions];
            st = CUTUNE_OK;
            break;
        }
    pthread_mutex_unlock(&p->grow);
    return st;
}

void cutune_pool_get_stats(cutune_pool *p, cutune_pool_stats *s)
{
    if (s && !p)
        *s = (cutune_pool_stats){0};
    if (!p || !s)
        return;
    uint64_t uses = 0;
    size_t in_use = 0;
    uint32_t n = atomic_load_explicit(&p->ndesc, memory_order_acquire);
    for (uint32_t i = 0; i < n; i++) {
        desc *d = at(p, i);
        uses += atomic_load_explicit(&d->uses, memory_order_relaxed);
        if (atomic_load_explicit(&d->state, memory_order_relaxed) == IN_USE)
            in_use += class_bytes(d->cls);
    }
    uint64_t misses = atomic_load(&p->misses);
    *s = (cutune_pool_stats){.hits = uses > misses ? uses - misses : 0, .misses = misses,
                             .waits = atomic_load(&p->waits),
                             .pinned_bytes = atomic_load(&p->pinned),
                             .high_water = atomic_load(&p->high_water),
                             .in_use_bytes = in_use,
                             .registered_bytes = atomic_load(&p->registered)};
}
