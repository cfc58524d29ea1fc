/* map.c — the profiles in memory, for cutune_select: liburcu's lock-free hash tables, read
 * under RCU. A profile is one immutable allocation, found by its whole key (the exact rule)
 * and listed with the other profiles of its kernel on its GPU (the fallback rules walk those
 * lists, and the GPUs of a kernel). A writer replaces a profile by publishing a new one and
 * hands the old to call_rcu, so readers never block and never see one half-written. */
/* liburcu's read-side fast paths inline (its static/ headers) rather than called; not
 * under the sanitizers, which would hold against liburcu that its reader registry places
 * 128-byte-aligned records at lesser alignments (harmless on x86-64) */
#ifndef CUTUNE_SANITIZED
#define _LGPL_SOURCE
#endif
#include "store_impl.h"

#include <math.h>
#include <stdatomic.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <urcu-bp.h>
#include <urcu/rculfhash.h>
#include <xxhash.h>

/* ThreadSanitizer cannot see liburcu's grace periods (liburcu is not instrumented), so it
 * would take the free after a grace period for a race with the reads before it. Every read
 * section's end releases, and every RCU free acquires, the same token: the order the grace
 * period guarantees, told to TSan. */
#if defined(__SANITIZE_THREAD__)
#define CT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CT_TSAN 1
#endif
#endif
#ifdef CT_TSAN
#include <sanitizer/tsan_interface.h>
static char grace_token;
#define AFTER_GRACE_PERIOD() __tsan_acquire(&grace_token)
#define END_OF_READ() __tsan_release(&grace_token)
/* and a node's publication (rcu_assign_pointer inside liburcu) orders its contents */
#define PUBLISH(obj) __tsan_release(obj)
#define SEEN(obj) __tsan_acquire((void *)(obj))
#else
#define AFTER_GRACE_PERIOD() ((void)0)
#define END_OF_READ() ((void)0)
#define PUBLISH(obj) ((void)0)
#define SEEN(obj) ((void)0)
#endif

static inline void read_lock(void)
{
    urcu_bp_read_lock();
}

static inline void read_unlock(void)
{
    END_OF_READ();
    urcu_bp_read_unlock();
}

typedef struct ct_gpu ct_gpu;

typedef struct ct_prof {
    struct cds_lfht_node by_key;
    struct rcu_head rcu;
    uint64_t key_hash;
    size_t key_len, gpu_len, params_len, config_len;
    ct_gpu *gpu;         /* the list it is in, and where (writers only) */
    size_t slot;
    cutune_profile view; /* strings point into data */
    char *key;           /* the canonical key, in data */
    char data[];
} ct_prof;

/* The profiles of one kernel on one GPU (its sizes and driver versions), for the fallback
 * rules: an array readers walk without locks. A writer fills a slot, then raises the count
 * (release); when the array is full it publishes a copy twice as large and retires the old
 * one through RCU. */
typedef struct slots {
    struct rcu_head rcu;
    size_t capacity;
    _Atomic(ct_prof *) item[];
} slots;

struct ct_gpu {
    struct cds_lfht_node by_gpu, by_kernel;
    _Atomic(slots *) slots;
    _Atomic size_t count;
    size_t key_len, kernel_len;
    int cc_major, cc_minor, sm_count;
    char *name; /* in key */
    char key[]; /* the kernel part and the GPU part of a profile's key */
};

struct ct_map {
    /* profiles by their whole key; the lists by kernel and GPU; the lists by kernel
     * (duplicates: one per GPU that has profiles of it) */
    struct cds_lfht *by_key, *by_gpu, *by_kernel;
    pthread_mutex_t write;
    _Atomic uint64_t generation; /* raised after every change a reader could see */
    /* raised after every change of a profile whose key hash falls here */
    _Atomic uint64_t key_generation[CT_KEY_GENERATIONS];
};

uint64_t ct_map_generation(ct_map *m)
{
    return atomic_load_explicit(&m->generation, memory_order_acquire);
}

uint64_t ct_map_key_generation(ct_map *m, uint64_t key_hash)
{
    return atomic_load_explicit(&m->key_generation[key_hash % CT_KEY_GENERATIONS],
                                memory_order_acquire);
}

/* Under the write lock, after the change is visible. */
static void changed(ct_map *m, uint64_t key_hash)
{
    atomic_fetch_add_explicit(&m->key_generation[key_hash % CT_KEY_GENERATIONS], 1,
                              memory_order_release);
    atomic_fetch_add_explicit(&m->generation, 1, memory_order_release);
}

/* The canonical key: the kernel part (kernel, source hash, user key), the GPU part (name,
 * compute capability, SMs), the versions, the problem size. */
#define SIZE_BYTES (3 * sizeof(int64_t))
#define VERSION_AND_SIZE_BYTES (2 * sizeof(int) + SIZE_BYTES)

uint64_t ct_key_prefix_hash(const char *key, size_t key_len)
{
    return XXH3_64bits(key, key_len - SIZE_BYTES);
}

uint64_t ct_key_hash(const char *key, size_t key_len, uint64_t prefix_hash)
{
    return XXH3_64bits_withSeed(key + key_len - SIZE_BYTES, SIZE_BYTES, prefix_hash);
}

size_t ct_profile_key(char *buf, const char *kernel, const char *source_hash,
                      const char *user_key, const char *device, const int dev[5],
                      const int64_t problem[3], size_t *kernel_len)
{
    const char *part[4] = {kernel ? kernel : "", source_hash ? source_hash : "",
                           user_key ? user_key : "", device ? device : ""};
    size_t n = 0;
    for (int k = 0; k < 4; k++) {
        size_t len = strlen(part[k]);
        if (len > CT_NAME_MAX)
            return 0;
        memcpy(buf + n, part[k], len + 1); /* the NUL separates */
        n += len + 1;
        if (k == 2)
            *kernel_len = n;
    }
    memcpy(buf + n, dev, 5 * sizeof *dev);
    n += 5 * sizeof *dev;
    for (int d = 0; d < 3; d++) {
        int64_t v = problem[d] <= 0 ? 1 : problem[d];
        memcpy(buf + n, &v, sizeof v);
        n += sizeof v;
    }
    return n;
}
/* liburcu's call_rcu thread and reader registry do not survive fork() by themselves: a child
 * that used the map would wait forever for a grace period. */
static void before_fork(void)
{
    urcu_bp_call_rcu_before_fork();
    urcu_bp_before_fork();
}

static void after_fork_parent(void)
{
    urcu_bp_after_fork_parent();
    urcu_bp_call_rcu_after_fork_parent();
}

static void after_fork_child(void)
{
    urcu_bp_after_fork_child();
    urcu_bp_call_rcu_after_fork_child();
}

static void install_fork_handlers(void)
{
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

int ct_map_new(ct_map **out, size_t expected)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install_fork_handlers);
    ct_map *m = calloc(1, sizeof *m);
    if (!m)
        return ct_fail(CUTUNE_ENOMEM, "out of memory");
    int flags = CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING;
    /* about one node per bucket from the start: growing later happens in the background */
    unsigned long buckets = 1024;
    while (buckets < expected && buckets < (1ul << 24))
        buckets *= 2;
    m->by_key = cds_lfht_new_flavor(buckets, 1024, 0, flags, &urcu_bp_flavor, NULL);
    m->by_gpu = cds_lfht_new_flavor(256, 256, 0, flags, &urcu_bp_flavor, NULL);
    m->by_kernel = cds_lfht_new_flavor(256, 256, 0, flags, &urcu_bp_flavor, NULL);
    if (!m->by_key || !m->by_gpu || !m->by_kernel) {
        struct cds_lfht *t[] = {m->by_key, m->by_gpu, m->by_kernel};
        for (int k = 0; k < 3; k++)
            if (t[k])
                cds_lfht_destroy(t[k], NULL);
        free(m);
        return ct_fail(CUTUNE_ENOMEM, "out of memory for the profile map");
    }
    pthread_mutex_init(&m->write, NULL);
    *out = m;
    return CUTUNE_OK;
}

static void free_prof(struct rcu_head *head)
{
    AFTER_GRACE_PERIOD();
    free(caa_container_of(head, ct_prof, rcu));
}

static void free_slots(struct rcu_head *head)
{
    AFTER_GRACE_PERIOD();
    free(caa_container_of(head, slots, rcu));
}

void ct_map_free(ct_map *m)
{
    if (!m)
        return;
    struct cds_lfht_iter it;
    struct cds_lfht_node *node;
    read_lock();
    cds_lfht_for_each(m->by_key, &it, node) {
        ct_prof *p = caa_container_of(node, ct_prof, by_key);
        cds_lfht_del(m->by_key, &p->by_key);
        urcu_bp_call_rcu(&p->rcu, free_prof);
    }
    read_unlock();
    urcu_bp_barrier(); /* every profile freed before the tables go */
    /* the lists: no reader is left, so they go at once */
    cds_lfht_for_each(m->by_gpu, &it, node) {
        ct_gpu *g = caa_container_of(node, ct_gpu, by_gpu);
        cds_lfht_del(m->by_gpu, &g->by_gpu);
        cds_lfht_del(m->by_kernel, &g->by_kernel);
        free(atomic_load(&g->slots));
        free(g);
    }
    cds_lfht_destroy(m->by_key, NULL);
    cds_lfht_destroy(m->by_gpu, NULL);
    cds_lfht_destroy(m->by_kernel, NULL);
    pthread_mutex_destroy(&m->write);
    free(m);
}

/* cds_lfht match functions: a key, or a leading part of it, byte for byte. */
typedef struct probe {
    const char *bytes;
    size_t len;
} probe;

static int match_key(struct cds_lfht_node *node, const void *arg)
{
    const ct_prof *p = caa_container_of(node, ct_prof, by_key);
    const probe *k = arg;
    SEEN(p);
    return p->key_len == k->len && memcmp(p->key, k->bytes, k->len) == 0;
}

static int match_gpu(struct cds_lfht_node *node, const void *arg)
{
    const ct_gpu *g = caa_container_of(node, ct_gpu, by_gpu);
    const probe *k = arg;
    SEEN(g);
    return g->key_len == k->len && memcmp(g->key, k->bytes, k->len) == 0;
}

static int match_kernel(struct cds_lfht_node *node, const void *arg)
{
    const ct_gpu *g = caa_container_of(node, ct_gpu, by_kernel);
    const probe *k = arg;
    SEEN(g);
    return g->kernel_len == k->len && memcmp(g->key, k->bytes, k->len) == 0;
}

/* Appends a string to the profile's data. */
static const char *put_str(char **at, const char *s, size_t *len)
{
    size_t n = strlen(s ? s : "");
    char *dst = *at;
    memcpy(dst, s ? s : "", n + 1);
    *at += n + 1;
    if (len)
        *len = n;
    return dst;
}

/* Under the read lock: the list of this kernel on this GPU (the first gpu_len bytes of a
 * key), or NULL. */
static ct_gpu *find_gpu(ct_map *m, const char *key, size_t gpu_len)
{
    struct cds_lfht_iter it;
    cds_lfht_lookup(m->by_gpu, XXH3_64bits(key, gpu_len), match_gpu, &(probe){key, gpu_len},
                    &it);
    struct cds_lfht_node *node = cds_lfht_iter_get_node(&it);
    return node ? caa_container_of(node, ct_gpu, by_gpu) : NULL;
}

/* Under the write lock: that list, made the first time. */
static ct_gpu *gpu_list(ct_map *m, const char *key, size_t kernel_len, size_t gpu_len,
                        const cutune_profile *v)
{
    ct_gpu *g = find_gpu(m, key, gpu_len);
    if (g)
        return g;
    slots *arr = malloc(sizeof *arr + 4 * sizeof arr->item[0]);
    if (!arr || !(g = calloc(1, sizeof *g + gpu_len))) {
        free(arr);
        ct_fail(CUTUNE_ENOMEM, "out of memory for a profile");
        return NULL;
    }
    arr->capacity = 4;
    atomic_init(&g->slots, arr);
    atomic_init(&g->count, 0);
    memcpy(g->key, key, gpu_len);
    g->key_len = gpu_len;
    g->kernel_len = kernel_len;
    g->name = g->key + kernel_len;
    g->cc_major = v->cc_major;
    g->cc_minor = v->cc_minor;
    g->sm_count = v->sm_count;
    cds_lfht_node_init(&g->by_gpu);
    cds_lfht_node_init(&g->by_kernel);
    PUBLISH(g);
    cds_lfht_add(m->by_gpu, XXH3_64bits(key, gpu_len), &g->by_gpu);
    cds_lfht_add(m->by_kernel, XXH3_64bits(key, kernel_len), &g->by_kernel);
    return g;
}

/* Under the write lock: p at the end of g's list, growing it if full. */
static int append(ct_gpu *g, ct_prof *p)
{
    slots *arr = atomic_load_explicit(&g->slots, memory_order_relaxed);
    size_t n = atomic_load_explicit(&g->count, memory_order_relaxed);
    if (n == arr->capacity) {
        slots *bigger = malloc(sizeof *bigger + 2 * arr->capacity * sizeof arr->item[0]);
        if (!bigger)
            return ct_fail(CUTUNE_ENOMEM, "out of memory for a profile");
        bigger->capacity = 2 * arr->capacity;
        for (size_t k = 0; k < n; k++)
            atomic_init(&bigger->item[k],
                        atomic_load_explicit(&arr->item[k], memory_order_relaxed));
        atomic_store_explicit(&g->slots, bigger, memory_order_release);
        urcu_bp_call_rcu(&arr->rcu, free_slots);
        arr = bigger;
    }
    p->gpu = g;
    p->slot = n;
    atomic_store_explicit(&arr->item[n], p, memory_order_release);
    atomic_store_explicit(&g->count, n + 1, memory_order_release);
    return CUTUNE_OK;
}

static int publish(ct_map *m, const cutune_profile *v, int fresh);

int ct_map_publish(ct_map *m, const cutune_profile *v)
{
    return publish(m, v, 0);
}

int ct_map_publish_new(ct_map *m, const cutune_profile *v)
{
    return publish(m, v, 1);
}

static int publish(ct_map *m, const cutune_profile *v, int fresh)
{
    char key[CT_KEY_MAX];
    int dev[5] = {v->cc_major, v->cc_minor, v->sm_count, v->driver_version, v->runtime_version};
    size_t kernel_len, key_len = ct_profile_key(key, v->kernel, v->source_hash, v->user_key,
                                                v->device, dev, v->problem, &kernel_len);
    if (!key_len)
        return ct_fail(CUTUNE_EINVAL, "a name of the profile is over %d bytes", CT_NAME_MAX);
    const char *strs[] = {v->device, v->kernel, v->source_hash, v->user_key,
                          v->params, v->config, v->strategy};
    size_t bytes = sizeof(ct_prof) + key_len;
    for (size_t k = 0; k < sizeof strs / sizeof *strs; k++)
        bytes += strlen(strs[k] ? strs[k] : "") + 1;
    ct_prof *p = malloc(bytes);
    if (!p)
        return ct_fail(CUTUNE_ENOMEM, "out of memory for a profile");
    memset(p, 0, sizeof *p);
    p->view = *v;
    char *at = p->data;
    p->key = at;
    memcpy(at, key, key_len);
    at += key_len;
    p->key_len = key_len;
    p->gpu_len = key_len - VERSION_AND_SIZE_BYTES;
    p->view.device = put_str(&at, v->device, NULL);
    p->view.kernel = put_str(&at, v->kernel, NULL);
    p->view.source_hash = put_str(&at, v->source_hash, NULL);
    p->view.user_key = put_str(&at, v->user_key, NULL);
    p->view.params = put_str(&at, v->params, &p->params_len);
    p->view.config = put_str(&at, v->config, &p->config_len);
    p->view.strategy = put_str(&at, v->strategy, NULL);
    for (int d = 0; d < 3; d++)
        p->view.problem[d] = v->problem[d] <= 0 ? 1 : v->problem[d];
    p->key_hash = ct_key_hash(key, key_len, ct_key_prefix_hash(key, key_len));
    cds_lfht_node_init(&p->by_key);
    PUBLISH(p);

    int st = CUTUNE_OK;
    pthread_mutex_lock(&m->write);
    read_lock();
    ct_gpu *g = gpu_list(m, key, kernel_len, p->gpu_len, v);
    struct cds_lfht_iter it;
    struct cds_lfht_node *found = NULL;
    if (!fresh) {
        cds_lfht_lookup(m->by_key, p->key_hash, match_key, &(probe){key, key_len}, &it);
        found = cds_lfht_iter_get_node(&it);
    }
    if (!g) {
        st = CUTUNE_ENOMEM;
    } else if (found) { /* the new one takes the old one's place, in the table and the list */
        ct_prof *o = caa_container_of(found, ct_prof, by_key);
        cds_lfht_replace(m->by_key, &it, p->key_hash, match_key, &(probe){key, key_len},
                         &p->by_key);
        p->gpu = o->gpu;
        p->slot = o->slot;
        slots *arr = atomic_load_explicit(&g->slots, memory_order_relaxed);
        atomic_store_explicit(&arr->item[p->slot], p, memory_order_release);
        urcu_bp_call_rcu(&o->rcu, free_prof);
    } else if (!(st = append(g, p))) { /* writers take turns: the key is still unique */
        cds_lfht_add(m->by_key, p->key_hash, &p->by_key);
    }
    read_unlock();
    if (!st)
        changed(m, p->key_hash);
    pthread_mutex_unlock(&m->write);
    if (st)
        free(p);
    return st;
}

/* Under both locks: p leaves its list; the last one takes its slot. */
static void unlist(ct_prof *p)
{
    ct_gpu *g = p->gpu;
    slots *arr = atomic_load_explicit(&g->slots, memory_order_relaxed);
    size_t last = atomic_load_explicit(&g->count, memory_order_relaxed) - 1;
    ct_prof *moved = atomic_load_explicit(&arr->item[last], memory_order_relaxed);
    if (moved != p) {
        moved->slot = p->slot;
        atomic_store_explicit(&arr->item[p->slot], moved, memory_order_release);
    }
    atomic_store_explicit(&arr->item[last], NULL, memory_order_release);
    atomic_store_explicit(&g->count, last, memory_order_release);
}

void ct_map_remove(ct_map *m, int64_t id)
{
    struct cds_lfht_iter it;
    struct cds_lfht_node *node;
    pthread_mutex_lock(&m->write);
    read_lock();
    cds_lfht_for_each(m->by_key, &it, node) {
        ct_prof *p = caa_container_of(node, ct_prof, by_key);
        if (p->view.id == id && cds_lfht_del(m->by_key, &p->by_key) == 0) {
            unlist(p);
            changed(m, p->key_hash);
            urcu_bp_call_rcu(&p->rcu, free_prof);
        }
    }
    read_unlock();
    pthread_mutex_unlock(&m->write);
}


/* How far apart two problem sizes are: the sum over dimensions of |log ratio|. */
static double size_distance(const int64_t a[3], const int64_t b[3])
{
    double d = 0;
    for (int k = 0; k < 3; k++)
        d += fabs(log((double)a[k] / (double)b[k]));
    return d;
}

/* How unlike the asking device another GPU is, lexicographically: another model, another
 * compute capability major version, another minor version, the difference in SMs. */
static double gpu_distance(const cutune_device_info *d, const ct_gpu *g)
{
    double far = strcmp(d->name, g->name) != 0 ? 1e9 : 0;
    far += d->cc_major != g->cc_major ? 1e7 : 0;
    far += d->cc_major != g->cc_major || d->cc_minor != g->cc_minor ? 1e5 : 0;
    return far + 1 + abs(d->sm_count - g->sm_count);
}

/* Under the read lock: the profile in g's list nearest in size to `want`, or NULL. */
static const ct_prof *nearest_size(const ct_gpu *g, const int64_t want[3])
{
    if (!g)
        return NULL;
    slots *arr = atomic_load_explicit(&((ct_gpu *)g)->slots, memory_order_acquire);
    size_t n = atomic_load_explicit(&((ct_gpu *)g)->count, memory_order_acquire);
    n = n < arr->capacity ? n : arr->capacity;
    const ct_prof *best = NULL;
    double best_size = INFINITY;
    for (size_t k = 0; k < n; k++) {
        const ct_prof *p = atomic_load_explicit(&arr->item[k], memory_order_acquire);
        if (!p)
            continue;
        double ds = size_distance(want, p->view.problem);
        if (ds < best_size) {
            best = p;
            best_size = ds;
        }
    }
    return best;
}

static void copy_out(const ct_prof *p, cutune_select_rule rule, cutune_selection *out)
{
    out->rule = rule;
    out->profile = p->view.id;
    out->time_ms = p->view.time_ms;
    memcpy(out->problem, p->view.problem, sizeof out->problem);
    size_t n = p->params_len < sizeof out->params ? p->params_len : sizeof out->params - 1;
    memcpy(out->params, p->view.params, n);
    out->params[n] = '\0';
    n = p->config_len < sizeof out->config ? p->config_len : sizeof out->config - 1;
    memcpy(out->config, p->view.config, n);
    out->config[n] = '\0';
}

#define MAX_GPUS 256 /* GPUs of one kernel considered by the similar-device rule */

int ct_map_select(ct_map *m, const cutune_device_info *device, const cutune_kernel_id *kernel,
                  const int64_t problem[3], cutune_selection *out)
{
    char key[CT_KEY_MAX];
    int dev[5] = {device->cc_major, device->cc_minor, device->sm_count, device->driver_version,
                  device->runtime_version};
    size_t kernel_len, key_len = ct_profile_key(key, kernel->name, kernel->source_hash,
                                                kernel->user_key, device->name, dev, problem,
                                                &kernel_len);
    if (!key_len)
        return ct_fail(CUTUNE_EINVAL, "cutune_select: a name is over %d bytes", CT_NAME_MAX);
    ct_map_select_key(m, device, key, key_len, kernel_len,
                      ct_key_hash(key, key_len, ct_key_prefix_hash(key, key_len)), out);
    return CUTUNE_OK;
}

void ct_map_select_key(ct_map *m, const cutune_device_info *device, const char *key,
                       size_t key_len, size_t kernel_len, uint64_t hash, cutune_selection *out)
{
    int64_t want[3];
    memcpy(want, key + key_len - SIZE_BYTES, sizeof want);
    struct cds_lfht_iter it;
    read_lock();
    cds_lfht_lookup(m->by_key, hash, match_key, &(probe){key, key_len}, &it);
    struct cds_lfht_node *node = cds_lfht_iter_get_node(&it);
    if (node) {
        copy_out(caa_container_of(node, ct_prof, by_key), CUTUNE_SELECT_EXACT, out);
        read_unlock();
        return;
    }
    /* this GPU (any driver): the nearest size */
    const ct_prof *best = nearest_size(find_gpu(m, key, key_len - VERSION_AND_SIZE_BYTES),
                                       want);
    if (best) {
        copy_out(best, CUTUNE_SELECT_NEAREST_SIZE, out);
        read_unlock();
        return;
    }
    /* the GPUs with profiles of this kernel, most similar first, until one has a profile */
    const ct_gpu *gpus[MAX_GPUS];
    double far[MAX_GPUS];
    size_t n = 0;
    probe pk = {key, kernel_len};
    cds_lfht_lookup(m->by_kernel, XXH3_64bits(key, kernel_len), match_kernel, &pk, &it);
    for (node = cds_lfht_iter_get_node(&it); node && n < MAX_GPUS;
         cds_lfht_next_duplicate(m->by_kernel, match_kernel, &pk, &it),
        node = cds_lfht_iter_get_node(&it)) {
        const ct_gpu *g = caa_container_of(node, ct_gpu, by_kernel);
        double d = gpu_distance(device, g);
        size_t k = n++;
        for (; k > 0 && far[k - 1] > d; k--) {
            gpus[k] = gpus[k - 1];
            far[k] = far[k - 1];
        }
        gpus[k] = g;
        far[k] = d;
    }
    for (size_t k = 0; k < n && !best; k++)
        best = nearest_size(gpus[k], want);
    if (best)
        copy_out(best, CUTUNE_SELECT_SIMILAR_DEVICE, out);
    read_unlock();
    if (!best) {
        memset(out, 0, sizeof *out);
        out->rule = CUTUNE_SELECT_DEFAULT;
        out->time_ms = NAN;
        memcpy(out->problem, want, sizeof want);
    }
}
